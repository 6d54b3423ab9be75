import { makeRelease, type Release } from '../domain/release.js';
import type { Build } from '../domain/build.js';
import type { BuildRecords } from './ports.js';

/** Starts the deployment of a release a build made (`rewind deploy`); resolves the deployment's id. */
export type DeployRelease = (build: Build, release: Release) => Promise<string>;

/** The build's release in its environment, with the environment's config (its active release's): a build never picks up a staged change. */
export async function recordBuildRelease(store: BuildRecords, build: Build, builds: Record<string, string>): Promise<Release> {
  const current = await store.releases.current(build.app, build.env);
  const release = makeRelease({
    app: build.app,
    env: build.env,
    kind: 'build',
    builds,
    config: current?.config ?? {},
    manifest: build.manifest,
    description: build.description,
    source: null,
    createdBy: build.createdBy,
  });
  await store.recordChange({
    release,
    audit: { actor: build.createdBy, action: 'release.create', app: build.app, env: build.env, subject: release.id, detail: { build: build.id } },
  });
  return release;
}

/**
 * Deploys the release of a build that asked for it, before the build is marked succeeded, so a
 * client that sees the build succeed also sees its deployment. A deployment that cannot start
 * (the environment is busy, say) leaves the build succeeded and its release kept, with the reason.
 */
export async function deployBuiltRelease(
  deploy: DeployRelease | undefined,
  build: Build,
  release: Release,
  write: (line: string) => void,
): Promise<{ deployment?: string; deployError?: string }> {
  if (!build.deploy) return {};
  try {
    if (!deploy) throw new Error('this server does not deploy builds');
    const deployment = await deploy(build, release);
    write(`--> deploying release ${release.id}: deployment ${deployment}\n`);
    return { deployment };
  } catch (e) {
    const deployError = (e as Error).message;
    write(`--> release ${release.id} was not deployed: ${deployError}\n`);
    return { deployError };
  }
}
