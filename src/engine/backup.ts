import { copyFile } from 'node:fs/promises';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { RewindError } from '../domain/errors.js';
import { composeManifest } from '../domain/plan.js';
import { makeRelease, type Release } from '../domain/release.js';
import type { ComponentSpec } from '../domain/manifest.js';
import { prebuiltBuild } from '../store/builds-repo.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';

export interface BackupDeps {
  readonly store: Store;
  readonly targets: TargetResolver;
  readonly artifacts: ArtifactStore;
}

/**
 * Before a deploy with enableRollback: captures what is *actually* live in app/env — the files the
 * target serves (drift included) and the config in effect — as a `backup` release. In design mode
 * (nothing is made live) the staged state is the newest release of the environment.
 */
export async function takeBackup(deps: BackupDeps, o: BackupRequest): Promise<Release> {
  const release = o.mode === 'design' ? await stagedBackup(deps.store, o) : await liveBackup(deps, o);
  await deps.store.recordChange({
    release,
    audit: { actor: o.actor, action: 'release.backup', app: o.app, env: o.env, subject: release.id, detail: { source: release.source, label: o.label } },
  });
  return release;
}

/** Which environment to back up, how (what is live, or what is staged), for what (`label`) and by whom. */
export interface BackupRequest {
  readonly app: string;
  readonly env: string;
  readonly mode: 'runtime' | 'design';
  readonly label: string;
  readonly actor: string;
}

/** Design mode: the staged state is the newest release of the environment. */
async function stagedBackup(store: Store, o: BackupRequest): Promise<Release> {
  const newest = await store.releases.newest(o.app, o.env);
  const version = await versionOf(store, newest);
  return makeRelease({
    app: o.app,
    env: o.env,
    kind: 'backup',
    builds: newest?.builds ?? {},
    config: newest?.config ?? {},
    manifest: newest?.manifest ?? null,
    description: `backup of staged ${o.env}: ${version} (${newest ? `${newest.id}, ` : ''}before ${o.label})`,
    source: newest?.id ?? null,
    createdBy: o.actor,
  });
}

/** Runtime mode: the files the target serves (drift included), stored as a build, and the config in effect. */
async function liveBackup(deps: BackupDeps, o: BackupRequest): Promise<Release> {
  const { store, artifacts } = deps;
  const target = deps.targets.forEnv(o.app, o.env);
  if (!target.snapshot) throw new RewindError('UNSUPPORTED_BY_TARGET', `the target of ${o.app}/${o.env} cannot take backups; deploy without enableRollback`);
  const snap = await target.snapshot(o.app, o.env);
  const live = snap.release ? await store.releases.get(o.app, snap.release) : undefined;
  const version = await versionOf(store, live);
  const slugs: Record<string, string> = {};
  for (const c of snap.components) {
    const tmp = await artifacts.tempPath('.tar.gz');
    await copyFile(c.path, tmp);
    slugs[c.name] = (await artifacts.putFile(tmp)).sha256;
  }
  const specs: Record<string, ComponentSpec> = {};
  for (const c of snap.components) {
    const spec = live?.manifest?.components[c.name];
    if (!spec)
      throw new RewindError(
        'NO_COMPONENT_MANIFEST',
        `${o.app}/${o.env} runs component ${c.name}, which Rewind has no manifest for; deploy without enableRollback`,
      );
    specs[c.name] = spec;
  }
  const manifest = composeManifest(specs);
  const names = Object.keys(slugs);
  let builds: Record<string, string> = {};
  if (names.length > 0) {
    const description = `backup of the live files of ${o.env}: ${version}`;
    const build = prebuiltBuild({ app: o.app, env: o.env, description, manifest: manifest!, artifacts: slugs, actor: o.actor });
    await store.builds.insert(build);
    builds = Object.fromEntries(names.map((n) => [n, build.id]));
  }
  return makeRelease({
    app: o.app,
    env: o.env,
    kind: 'backup',
    builds,
    config: snap.config,
    manifest,
    description: `backup of live ${o.env}: ${version} (${snap.release ? `${snap.release}, ` : ''}before ${o.label})`,
    source: snap.release,
    createdBy: o.actor,
  });
}

/**
 * The version a backup holds, as its builds describe it (`build 0a1b2c3d4e5f subject`, the git
 * describe the CLI sends), so that a list of builds or releases says what a backup would restore.
 * A build of a backup says the version it held; one without a description is named by its id.
 */
async function versionOf(store: Store, release: Release | undefined | null): Promise<string> {
  if (!release) return 'nothing';
  const id = release.builds.web ?? Object.values(release.builds)[0];
  if (!id) return 'no components';
  const build = await store.builds.get(release.app, id);
  const text = (build?.description ?? '').replace(/^backup of the live files of [^:]*: /, '').trim();
  return text && text !== 'build' ? text.slice(0, 300) : `build ${id}`;
}
