import { RewindError } from './errors.js';

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

const LIMITS: Record<keyof EnvSettings, [number, number]> = {
  standbyMinutes: [0, 24 * 60],
  standbyCount: [0, 5],
  autoRollbackSeconds: [0, 3600],
  drainSeconds: [0, 3600],
};

export const SETTING_KEYS = Object.keys(LIMITS) as (keyof EnvSettings)[];

/** Checks a settings patch: known keys, numbers within their range; null removes a key (back to the default). */
export function mergeSettings(current: EnvSettings, patch: Readonly<Record<string, unknown>>): EnvSettings {
  const problems: string[] = [];
  const next: Record<string, number> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in LIMITS)) {
      problems.push(`${k} is not a setting (known: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    if (v === null) {
      delete next[k];
      continue;
    }
    const [min, max] = LIMITS[k as keyof EnvSettings];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) problems.push(`${k} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    else next[k] = v;
  }
  if (problems.length) throw new RewindError('INVALID_INPUT', problems.join('; '));
  return Object.freeze(next);
}

export interface DataPlaneDefaults {
  readonly standbyMinutes: number;
  readonly standbyCount: number;
  readonly autoRollbackSeconds: number;
  readonly drainSeconds: number;
}

/** The settings in effect: the environment's own, else the server's defaults. */
export const effectiveSettings = (s: EnvSettings, d: DataPlaneDefaults): DataPlaneDefaults => ({
  standbyMinutes: s.standbyMinutes ?? d.standbyMinutes,
  standbyCount: s.standbyCount ?? d.standbyCount,
  autoRollbackSeconds: s.autoRollbackSeconds ?? d.autoRollbackSeconds,
  drainSeconds: s.drainSeconds ?? d.drainSeconds,
});
