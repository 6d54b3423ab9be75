/**
 * Log lines of an app/env on Swarm, in the local target's format (`TIMESTAMP component.task
 * message`): the services' output as Docker keeps it (not followed), with the target's own lines
 * about its rollouts (`TIMESTAMP swarm message`, kept in memory: bounded, lost on a restart).
 */
import type { DockerEngine } from './docker-engine.js';
import { LABEL } from './swarm-names.js';
import { type EnvState, labelOf } from './swarm-state.js';

export interface TimedLine {
  /** ISO time with milliseconds: lines sort by it. */
  readonly at: string;
  readonly text: string;
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

/** Docker's RFC 3339 time with nanoseconds as an ISO time with milliseconds; null when it is not one. */
export function isoOf(stamp: string): string | null {
  const m = STAMP.exec(stamp);
  if (!m) return null;
  const ms = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const date = new Date(`${m[1]}.${ms}${m[3]}`);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** One line of `GET /services/ID/logs?timestamps=1&details=1`: its time, task and message. */
export function parseServiceLine(line: string): { at: string; task: string | null; message: string } | null {
  const space = line.indexOf(' ');
  const at = isoOf(space < 0 ? line : line.slice(0, space));
  if (!at) return null;
  const rest = space < 0 ? '' : line.slice(space + 1);
  const m = /^(\S*com\.docker\.swarm\.\S*)(?: (.*))?$/.exec(rest);
  if (!m) return { at, task: null, message: rest };
  const attrs = new Map(m[1].split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { at, task: attrs.get('com.docker.swarm.task.id') ?? null, message: m[2] ?? '' };
}

/** The last `tail` lines of each service of app/env, as timed lines. */
export async function serviceLines(engine: DockerEngine, state: EnvState, tail: number): Promise<TimedLine[]> {
  const perService = await Promise.all(
    state.services.map(async (s) => {
      const component = labelOf(s, LABEL.component) ?? s.Spec.Name ?? s.ID;
      const lines = await engine.serviceLogs(s.ID, { tail, timestamps: true, details: true });
      return lines.flatMap((l) => {
        const parsed = parseServiceLine(l.line);
        return parsed ? [{ at: parsed.at, text: `${parsed.at} ${component}.${parsed.task ?? s.ID} ${parsed.message}` }] : [];
      });
    }),
  );
  return perService.flat();
}

/** Merges timed lines by time (stable), keeps the last `n`, newline-terminated. */
export function lastLines(lines: readonly TimedLine[], n: number): string[] {
  const sorted = lines.map((l, i) => ({ l, i })).sort((a, b) => (a.l.at < b.l.at ? -1 : a.l.at > b.l.at ? 1 : a.i - b.i));
  return n <= 0 ? [] : sorted.slice(-n).map(({ l }) => `${l.text}\n`);
}

/** The target's own lines per app/env, at most `max` each. */
export class OwnLines {
  readonly #lines = new Map<string, TimedLine[]>();
  readonly #max: number;

  constructor(max = 500) {
    this.#max = max;
  }

  add(key: string, at: string, message: string): void {
    const list = this.#lines.get(key) ?? [];
    list.push({ at, text: `${at} swarm ${message}` });
    if (list.length > this.#max) list.splice(0, list.length - this.#max);
    this.#lines.set(key, list);
  }

  of(key: string): readonly TimedLine[] {
    return this.#lines.get(key) ?? [];
  }

  drop(key: string): void {
    this.#lines.delete(key);
  }
}
