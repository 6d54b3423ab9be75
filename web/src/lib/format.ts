/** Small presentation helpers: relative times, durations, masking. */

const UNITS: Array<[number, string]> = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [30, 'day'],
  [12, 'month'],
  [Infinity, 'year'],
];

/** "10 seconds ago", like the CLI's CREATED column. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  let n = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (n < 2) return 'just now';
  for (const [size, unit] of UNITS) {
    if (n < size) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    n = Math.floor(n / size);
  }
  return iso;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export function duration(fromIso: string, toIso: string | null): string {
  const ms = (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso);
  if (ms < 1000) return `${Math.max(0, ms)} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The same rule as the server's plans: values of secret-looking keys are never shown by default. */
const SECRET = /(SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE|DATABASE_URL|_URL$)/i;
export const isSecret = (key: string) => SECRET.test(key);
export const MASK = '********';
export const mask = (key: string, value: string) => (isSecret(key) ? MASK : value);

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "12:00:01" from an ISO time, for log lines. */
export const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour12: false });

/**
 * A release's or build's own description, or '' when it has none: the server names a build sent
 * without one `build`, which beside the kind and the BUILD column would read "build build".
 */
export const ownDescription = (d: string | null | undefined): string => (d && d.trim() !== 'build' ? d : '');

/** A build made by a backup before a deploy (`backup of the live files of production: …`), not from the app's source. */
export const isBackupBuild = (b: { readonly description: string }): boolean => b.description.startsWith('backup of ');
