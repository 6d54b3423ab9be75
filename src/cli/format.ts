/**
 * Pure output formatting for the CLI: Convox-style tables, key/value blocks, relative times,
 * timestamps and sizes. No I/O here, so every line can be asserted exactly in tests.
 */

/** Table cells are single-line: newlines and tabs would break the alignment. */
const cell = (value: string): string => value.replace(/[\r\n\t]+/g, ' ');

/**
 * Columns padded to their widest cell and separated by two spaces, like `convox releases`.
 * Trailing spaces are trimmed, so an empty last column leaves no whitespace behind.
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers, ...rows].map((r) => headers.map((_, i) => cell(r[i] ?? '')));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * A key/value block (`Name  myapp`), keys padded to the widest one. A multi-line value continues
 * under the first one; a pair with an empty value is a heading (`production`).
 */
export function keyValues(pairs: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  const pad = ' '.repeat(width + 2);
  const lines: string[] = [];
  for (const [key, value] of pairs) {
    const [first = '', ...rest] = value.split('\n');
    lines.push(`${key.padEnd(width)}  ${first}`.trimEnd());
    for (const more of rest) lines.push(`${pad}${more}`.trimEnd());
  }
  return lines;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 12 * MONTH;

// The same steps as go-humanize's Time(), which the Convox CLI prints.
const STEPS: readonly (readonly [below: number, unit: number, one: string, many: string])[] = [
  [SECOND, 0, 'now', 'now'],
  [MINUTE, SECOND, '1 second ago', 'seconds ago'],
  [HOUR, MINUTE, '1 minute ago', 'minutes ago'],
  [DAY, HOUR, '1 hour ago', 'hours ago'],
  [WEEK, DAY, '1 day ago', 'days ago'],
  [MONTH, WEEK, '1 week ago', 'weeks ago'],
  [YEAR, MONTH, '1 month ago', 'months ago'],
  [Infinity, YEAR, '1 year ago', 'years ago'],
];

/** `now`, `1 minute ago`, `5 minutes ago`, `2 hours ago`, `3 days ago`, `2 weeks ago`, … */
export function relativeTime(at: string | Date, now: number | Date = Date.now()): string {
  const then = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(then)) return '';
  const elapsed = Math.max(0, +now - then); // a clock a little ahead of ours reads as "now"
  for (const [below, unit, one, many] of STEPS) {
    if (elapsed >= below) continue;
    if (unit === 0) return one;
    const n = Math.floor(elapsed / unit);
    return n <= 1 ? one : `${n} ${many}`;
  }
  return '';
}

/** `2019-01-01T00:00:49Z`: ISO-8601 in UTC without milliseconds, as Convox prints events. */
export function timestamp(at: string | Date): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  return Number.isNaN(d.getTime()) ? String(at) : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `512 B`, `1.5 KB`, `12.0 MB` (powers of 1024). */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** One deployment or build event line: `TIMESTAMP message`. */
export const eventLine = (at: string, message: string): string => `${timestamp(at)} ${message}`;

/** `KEY=VALUE` lines sorted by key. */
export function configLines(config: Readonly<Record<string, string>>): string[] {
  return Object.keys(config)
    .sort()
    .map((k) => `${k}=${config[k]}`);
}

/** A duration like Go prints it, shortened: `850ms`, `42s`, `1m5s`, `2h3m`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** `2 hours ago (2019-01-01T00:00:49Z)`, for info blocks. */
export const when = (at: string, now: number | Date = Date.now()): string => `${relativeTime(at, now)} (${timestamp(at)})`;
