import { RewindError } from './errors.js';
import { hasKey, mapOf, recordOf } from './records.js';

/** Per-environment data-plane settings; absent keys take the server's defaults. */
export interface EnvSettings {
  /** How long the previous release stays warm after a switch (0: stop it once drained). */
  readonly standbyMinutes?: number;
  /** How many previous releases stay warm. */
  readonly standbyCount?: number;
  /** How long after a switch an unhealthy new release is rolled back automatically (0: never). */
  readonly autoRollbackSeconds?: number;
  /** How long old instances may finish in-flight requests. */
  readonly drainSeconds?: number;
}

/**
 * Whole numbers in these ranges: the agent takes milliseconds as integers (drainTimeoutMs up to
 * 1 h, standby keepMs up to 7 days and count up to 10, autoRollback windowMs up to 24 h; see
 * src/agent/desired-validation.ts), so every value here converts to one it accepts.
 */
const LIMITS: Record<keyof EnvSettings, [number, number]> = {
  standbyMinutes: [0, 24 * 60],
  standbyCount: [0, 5],
  autoRollbackSeconds: [0, 3600],
  drainSeconds: [0, 3600],
};

export const SETTING_KEYS = Object.keys(LIMITS) as (keyof EnvSettings)[];

/** Checks a settings patch: known keys, whole numbers within their range; null removes a key (back to the default). */
export function mergeSettings(current: EnvSettings, patch: Readonly<Record<string, unknown>>): EnvSettings {
  const problems: string[] = [];
  const next = mapOf(current as Readonly<Record<string, number>>);
  for (const [k, v] of Object.entries(patch)) {
    if (!hasKey(LIMITS, k)) {
      problems.push(`${JSON.stringify(k.slice(0, 60))} is not a setting (known: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    if (v === null) {
      next.delete(k);
      continue;
    }
    const [min, max] = LIMITS[k as keyof EnvSettings];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
      problems.push(`${k} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    else next.set(k, v as number);
  }
  if (problems.length) throw new RewindError('INVALID_SETTING', problems.join('; '));
  return Object.freeze(recordOf(next)) as EnvSettings;
}

export interface DataPlaneDefaults {
  readonly standbyMinutes: number;
  readonly standbyCount: number;
  readonly autoRollbackSeconds: number;
  readonly drainSeconds: number;
}

/** The settings in effect: the environment's own, else the server's defaults. */
export const effectiveSettings = (s: EnvSettings, d: DataPlaneDefaults): DataPlaneDefaults => ({
  standbyMinutes: settled(s, 'standbyMinutes') ?? d.standbyMinutes,
  standbyCount: settled(s, 'standbyCount') ?? d.standbyCount,
  autoRollbackSeconds: settled(s, 'autoRollbackSeconds') ?? d.autoRollbackSeconds,
  drainSeconds: settled(s, 'drainSeconds') ?? d.drainSeconds,
});

/** A stored value the agent accepts, else undefined (a fraction saved before settings were checked as whole numbers takes the default). */
function settled(s: EnvSettings, k: keyof EnvSettings): number | undefined {
  const v = hasKey(s, k) ? s[k] : undefined;
  const [min, max] = LIMITS[k];
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? v : undefined;
}
