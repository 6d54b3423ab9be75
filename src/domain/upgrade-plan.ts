/**
 * Which install or upgrade of a template a rollback undoes, decided from loaded values only: the
 * records of app/env (newest first) with their deployments' states. The engine loads them, asks
 * here, and applies the answer; the console shows "Roll back" on the record `rollbackTarget` names.
 */
import { RewindError } from './errors.js';
import type { DeploymentState } from './states.js';
import type { Upgrade } from './template.js';

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
