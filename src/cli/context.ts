import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { CliCapabilities } from './capabilities.js';
import { RewindClient } from './client.js';
import { findToken } from './credentials.js';
import { noApp } from './errors.js';

export interface TextSink {
  write(text: string): unknown;
}

/** Where a run of the CLI reads and writes; tests pass their own. */
export interface CliIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout / stderr are terminals (colour on stdout, progress bars on stderr). */
  readonly isTTY: boolean | { readonly stdout: boolean; readonly stderr: boolean };
  /** Stops long-running commands (server, agent, logs -f) like SIGINT does. */
  readonly signal?: AbortSignal;
  /** Where answers to questions (`Proceed? [y/N]`) come from; none: nothing is ever asked. */
  readonly stdin?: NodeJS.ReadableStream & { readonly isTTY?: boolean };
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: { stdout: Boolean(process.stdout.isTTY), stderr: Boolean(process.stderr.isTTY) },
    stdin: process.stdin,
  };
}

/** The options every command takes. */
export interface GlobalOptions {
  readonly app?: string;
  readonly env: string;
  readonly json: boolean;
  readonly verbose: boolean;
}

const GREEN = (s: string) => `\x1b[32m${s}\x1b[39m`;
const RED = (s: string) => `\x1b[31m${s}\x1b[39m`;

/**
 * Human output on stdout: plain lines and Convox-style steps (`Label... OK`). With --json all of
 * it is dropped, so stdout carries only the final JSON document.
 */
export class Output {
  json = false;
  private open = false;

  constructor(
    private readonly io: CliIO,
    private readonly color: boolean,
  ) {}

  /** A line on stdout (human mode only). */
  line(text = ''): void {
    if (this.json) return;
    this.close();
    this.io.stdout.write(`${text}\n`);
  }

  lines(texts: readonly string[]): void {
    for (const t of texts) this.line(t);
  }

  /** Raw streamed text (logs) on stdout (human mode only). */
  raw(text: string): void {
    if (this.json || text === '') return;
    this.close();
    this.io.stdout.write(text);
  }

  /** Starts a step: `Label...`, finished by `done()` on the same line or after event lines. */
  start(label: string): void {
    if (this.json) return;
    this.close();
    this.io.stdout.write(`${label}...`);
    this.open = true;
  }

  /** Finishes the current step: ` OK` on its line, or `OK` on its own line after events. */
  done(text = 'OK'): void {
    if (this.json) return;
    const ok = text.startsWith('OK') ? (this.color ? GREEN('OK') : 'OK') + text.slice(2) : text;
    this.io.stdout.write(this.open ? ` ${ok}\n` : `${ok}\n`);
    this.open = false;
  }

  /** What a command found: `lines` for people, or `value` as the JSON document of a --json run. */
  show(value: unknown, lines: readonly string[]): void {
    this.lines(lines);
    this.result(value);
  }

  /** The final JSON document of a --json run. */
  result(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Ends a step line left open (e.g. before an error is printed). */
  close(): void {
    if (!this.open) return;
    this.io.stdout.write('\n');
    this.open = false;
  }
}

/** What one run of the CLI shares between its commands: I/O, settings and the API client. */
export class Cli {
  readonly out: Output;
  readonly host: string;
  readonly stdoutTTY: boolean;
  readonly stderrTTY: boolean;
  private apiClient: RewindClient | undefined;

  constructor(
    readonly io: CliIO,
    /** Server, agent, source packing and git, lent by the composition root (src/main/rewind.ts). */
    readonly capabilities: CliCapabilities,
  ) {
    this.stdoutTTY = typeof io.isTTY === 'boolean' ? io.isTTY : io.isTTY.stdout;
    this.stderrTTY = typeof io.isTTY === 'boolean' ? io.isTTY : io.isTTY.stderr;
    this.host = (io.env.REWIND_HOST || 'http://127.0.0.1:7070').replace(/\/+$/, '');
    this.out = new Output(io, this.colorOn(this.stdoutTTY));
  }

  /** Colour only on a terminal and without NO_COLOR (https://no-color.org). */
  colorOn(tty: boolean): boolean {
    return tty && !this.io.env.NO_COLOR;
  }

  get client(): RewindClient {
    this.apiClient ??= new RewindClient({
      host: this.host,
      token: findToken(this.io.env, this.host),
      signal: this.io.signal,
    });
    return this.apiClient;
  }

  /** The global options as seen from a (sub)command, with REWIND_APP as the default app. */
  globals(cmd: Command): GlobalOptions {
    const o = cmd.optsWithGlobals<{ app?: string; env?: string; json?: boolean; verbose?: boolean }>();
    const g = {
      app: o.app || this.io.env.REWIND_APP || undefined,
      env: o.env || 'production',
      json: Boolean(o.json),
      verbose: Boolean(o.verbose),
    };
    this.out.json = g.json;
    return g;
  }

  /** The app to act on, or the usage error that says how to give one. */
  app(g: GlobalOptions, explicit?: string): string {
    const app = explicit || g.app;
    if (!app) throw noApp();
    return app;
  }

  /** A person at a terminal can answer questions: stdin and stdout are both terminals. */
  get interactive(): boolean {
    return Boolean(this.io.stdin?.isTTY) && this.stdoutTTY;
  }

  /**
   * Asks a yes/no question (on stdout, or stderr with --json) and reads one line; only `y` or
   * `yes` is a yes, so Enter, anything else and end of input mean no.
   */
  async confirm(question: string): Promise<boolean> {
    const input = this.io.stdin;
    if (!input) return false;
    (this.out.json ? this.io.stderr : this.io.stdout).write(`${question} `);
    const rl = createInterface({ input, terminal: false });
    let answer = '';
    try {
      for await (const line of rl) {
        answer = line;
        break;
      }
    } finally {
      rl.close();
    }
    return /^\s*y(es)?\s*$/i.test(answer);
  }

  /** A notice on stderr (never on stdout, so --json output stays clean). */
  warn(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  errorLine(text: string): string {
    return this.colorOn(this.stderrTTY) ? text.replace(/^error:/, RED('error:')) : text;
  }

  async close(): Promise<void> {
    await this.apiClient?.close();
  }
}
