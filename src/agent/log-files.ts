/**
 * Logs of one app/env. Instances write raw output straight to their own files (so they outlive the
 * agent); the agent tails those files, stamps each line and appends it, with its own `agent` lines,
 * to one combined file that `GET …/logs` reads and followers subscribe to.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { appLogDir, combinedLogPath, formatLogLine, instanceLogPath } from './process-commands.js';

const PUMP_MS = 200;
const MAX_LINE = 64 * 1024;
const RAW_TRUNCATE_AT = 8 * 1024 * 1024;
const COMBINED_ROTATE_AT = 16 * 1024 * 1024;

interface Tracked {
  readonly source: string;
  readonly path: string;
  offset: number;
}

/** The last `n` lines of a file (without their newlines); [] when it does not exist. */
export function tailLines(path: string, n: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    let start = size;
    let text = '';
    while (start > 0 && text.split('\n').length <= n + 1) {
      const length = Math.min(64 * 1024, start);
      start -= length;
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, start);
      text = buf.toString('utf8') + text;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (start > 0) lines.shift(); // possibly cut in the middle
    return n <= 0 ? [] : lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}

export class AppLog {
  readonly #dataDir: string;
  readonly #app: string;
  readonly #env: string;
  readonly #combined: string;
  readonly #tracked = new Map<string, Tracked>();
  readonly #followers = new Map<(line: string) => void, () => void>();
  #fd: number | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(dataDir: string, app: string, env: string) {
    this.#dataDir = dataDir;
    this.#app = app;
    this.#env = env;
    this.#combined = combinedLogPath(dataDir, app, env);
    mkdirSync(appLogDir(dataDir, app, env), { recursive: true, mode: 0o700 });
  }

  rawPath(component: string, id: string): string {
    return instanceLogPath(this.#dataDir, this.#app, this.#env, component, id);
  }

  /** An `agent` line, e.g. "web.ab12 healthy". */
  system(message: string): void {
    this.#append('agent', message);
  }

  /** Starts copying an instance's raw file from `offset` (bytes already copied before a restart). */
  track(component: string, id: string, offset = 0): void {
    if (!this.#tracked.has(id)) this.#tracked.set(id, { source: `${component}.${id}`, path: this.rawPath(component, id), offset });
    this.#timer ??= setInterval(() => this.pump(), PUMP_MS).unref();
  }

  /** Copies what is left of an instance's file, stops tailing it and, with `remove`, deletes it. */
  untrack(id: string, remove: boolean): void {
    const tracked = this.#tracked.get(id);
    if (!tracked) return;
    this.#pumpOne(tracked, true);
    this.#tracked.delete(id);
    if (remove) rmSync(tracked.path, { force: true });
  }

  offsetOf(id: string): number {
    return this.#tracked.get(id)?.offset ?? 0;
  }

  /** The last raw lines an instance wrote, for error messages. */
  lastRawLines(component: string, id: string, n: number): string[] {
    return tailLines(this.rawPath(component, id), n).filter((l) => l.trim() !== '');
  }

  recent(n: number): string[] {
    this.pump();
    return tailLines(this.#combined, n);
  }

  /** Calls `fn` with every new combined line until the returned function is called; `onEnd` when the log closes. */
  follow(fn: (line: string) => void, onEnd: () => void = () => {}): () => void {
    this.#followers.set(fn, onEnd);
    return () => this.#followers.delete(fn);
  }

  pump(): void {
    for (const tracked of this.#tracked.values()) this.#pumpOne(tracked, false);
  }

  close(): void {
    this.pump();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const ends = [...this.#followers.values()];
    this.#followers.clear();
    for (const end of ends) end();
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #pumpOne(tracked: Tracked, flush: boolean): void {
    let fd: number;
    try {
      fd = openSync(tracked.path, 'r+');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < tracked.offset) tracked.offset = 0; // truncated behind our back
      while (tracked.offset < size) {
        const length = Math.min(size - tracked.offset, 1024 * 1024);
        const buf = Buffer.alloc(length);
        const read = readSync(fd, buf, 0, length, tracked.offset);
        let end = buf.lastIndexOf(0x0a, read - 1) + 1;
        if (end === 0 && (flush || read >= MAX_LINE)) end = read;
        if (end === 0) break;
        for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
          if (line !== '') this.#append(tracked.source, line.replace(/\r$/, ''));
        }
        tracked.offset += end;
      }
      // Instances open their file with O_APPEND, so truncating it is safe once everything is copied.
      if (tracked.offset === size && size > RAW_TRUNCATE_AT) {
        ftruncateSync(fd, 0);
        tracked.offset = 0;
      }
    } finally {
      closeSync(fd);
    }
  }

  #append(source: string, message: string): void {
    const line = formatLogLine(new Date(), source, message);
    try {
      if (this.#fd === null) this.#fd = openSync(this.#combined, 'a', 0o600);
      writeSync(this.#fd, `${line}\n`);
      if (fstatSync(this.#fd).size > COMBINED_ROTATE_AT) {
        closeSync(this.#fd);
        this.#fd = null;
        renameSync(this.#combined, `${this.#combined}.1`);
      }
    } catch {
      /* a full disk must not stop the agent from serving */
    }
    for (const fn of this.#followers.keys()) fn(line);
  }
}
