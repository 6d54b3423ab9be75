/**
 * Installs, upgrades and their rollbacks, decided from loaded values only: the records of app/env
 * (newest first) with their deployments' states, the template's versions, the active release. The
 * engine loads them, asks here, and applies the answer; the console shows "Roll back" on the
 * record `rollbackTarget` names.
 */
import { RewindError } from './errors.js';
import type { DeploymentState } from './states.js';
import type { Config } from './config.js';
import type { Manifest } from './manifest-types.js';
import type { EnvState } from './plan.js';
import type { Release } from './release.js';
import type { TemplateVersion, Upgrade } from './template.js';

/** An install or upgrade record with its deployment's state (`unknown` when the deployment is gone). */
export interface UpgradeRecord extends Upgrade {
  readonly state: DeploymentState | 'unknown';
}

/** What a rollback of an upgrade does: the record it marks, and the release it goes back to. */
export interface UpgradeRollback {
  readonly upgrade: UpgradeRecord;
  readonly toRelease: string;
}

/** The newest install or upgrade that went live and was not rolled back: what app/env runs of its template. */
export const newestLive = (records: readonly UpgradeRecord[]): UpgradeRecord | undefined =>
  records.find((r) => r.rolledBackRelease === null && r.state === 'succeeded');

/**
 * The rollback of upgrade `id` (default: the newest live one) in app/env, or the refusal: it must
 * exist, have gone live, not be rolled back already, be the newest live one (a later one is rolled
 * back first), and have run after something (an install has nothing before it to go back to).
 */
export function planUpgradeRollback(app: string, env: string, records: readonly UpgradeRecord[], id?: string): UpgradeRollback {
  const upgrade = id !== undefined ? records.find((r) => r.id === id) : newestLive(records);
  if (!upgrade) {
    throw id === undefined
      ? new RewindError('NOTHING_TO_ROLL_BACK', `${app}/${env} has no upgrade to roll back; see "rewind templates upgrades -a ${app}"`)
      : new RewindError('UPGRADE_NOT_FOUND', `upgrade ${id} of ${app}/${env} does not exist; see "rewind templates upgrades -a ${app}"`);
  }
  if (upgrade.rolledBackRelease)
    throw new RewindError('NOTHING_TO_ROLL_BACK', `upgrade ${upgrade.id} was already rolled back (release ${upgrade.rolledBackRelease})`);
  if (upgrade.state !== 'succeeded') {
    const what = upgrade.state === 'unknown' ? 'is gone' : upgrade.state;
    throw new RewindError(
      'NOTHING_TO_ROLL_BACK',
      `upgrade ${upgrade.id} did not go live (its deployment ${upgrade.deployment} ${what}); there is nothing of it to roll back`,
    );
  }
  const newest = newestLive(records);
  if (newest && newest.id !== upgrade.id) {
    throw new RewindError(
      'UPGRADE_NOT_LATEST',
      `upgrade ${newest.id} (${newest.fromVersion ?? 'install'} to ${newest.toVersion}) came after ${upgrade.id}; roll it back first`,
    );
  }
  if (!upgrade.fromRelease) {
    throw new RewindError(
      'NOTHING_TO_ROLL_BACK',
      `${upgrade.id} installed ${upgrade.template} ${upgrade.toVersion} in ${app}/${env}; nothing ran there before it to go back to`,
    );
  }
  return { upgrade, toRelease: upgrade.fromRelease };
}

/** The record a one-click rollback (no id) undoes, or null when it would be refused. */
export function rollbackTarget(records: readonly UpgradeRecord[]): string | null {
  const live = newestLive(records);
  return live && live.fromRelease !== null ? live.id : null;
}

/** The template an install or upgrade of app/env uses: the one asked for, which must be the one it runs if it runs one. */
export function upgradeTemplate(app: string, env: string, records: readonly UpgradeRecord[], asked: string | undefined): string {
  const current = records[0]?.template ?? null;
  if (asked !== undefined && current !== null && asked !== current) {
    throw new RewindError('TEMPLATE_MISMATCH', `${app}/${env} runs template ${current}, not ${asked}; upgrade it with "rewind templates upgrade -a ${app}"`);
  }
  const name = asked ?? current;
  if (name === null)
    throw new RewindError('NOT_FROM_TEMPLATE', `${app}/${env} was not installed from a template; install one with "rewind templates install NAME --as ${app}"`);
  return name;
}

/** What an install or upgrade makes: the version, the release's config and description, and the state it is planned to (before its build exists). */
export interface UpgradeChange {
  readonly target: TemplateVersion;
  /** The version running before (null: an install). */
  readonly installed: string | null;
  readonly verb: 'install' | 'upgrade';
  readonly description: string;
  /** The environment's own config, plus the variables the version defines that it lacks. */
  readonly config: Config;
  /** Planned from values only: the version's components are named NAME@VERSION until their build is made. */
  readonly next: EnvState;
}

/** An install or upgrade of app/env to `version` (default: the newest) of template `name`, whose `versions` are newest first. */
export function planUpgrade(
  p: { app: string; env: string; name: string; versions: readonly TemplateVersion[]; version?: string; records: readonly UpgradeRecord[] },
  active: Release | null,
): UpgradeChange {
  const target = p.version === undefined ? p.versions[0] : p.versions.find((v) => v.version === p.version);
  if (!target)
    throw new RewindError(
      'TEMPLATE_NOT_FOUND',
      `template ${p.name} has no version ${p.version}; its versions are ${p.versions.map((v) => v.version).join(', ')}`,
    );
  const installed = newestLive(p.records)?.toVersion ?? null;
  if (installed === target.version)
    throw new RewindError('ALREADY_UP_TO_DATE', `${p.app}/${p.env} already runs ${p.name} ${target.version}; there is nothing to upgrade`);
  const config = { ...target.config, ...(active?.config ?? {}) };
  const verb = installed === null ? 'install' : 'upgrade';
  const description = installed === null ? `${verb} ${p.name} ${target.version}` : `${verb} ${p.name} ${installed} to ${target.version}`;
  const builds = Object.fromEntries(Object.keys(target.artifacts).map((c) => [c, `${p.name}@${target.version}`]));
  return { target, installed, verb, description, config, next: { builds, config, manifest: target.manifest as Manifest } };
}
