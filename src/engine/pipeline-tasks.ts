import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { safeExtract } from '../artifacts/safe-extract.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommandArgv } from '../domain/manifest.js';
import type { TaskDef } from '../domain/pipeline.js';
import { makeRelease, type Release } from '../domain/release.js';
import { usesOf, type Build } from '../store/builds-repo.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { Store } from '../store/store.js';
import { logKeepBytes } from '../builder/build-log.js';
import { runProcess, type ProcessOutcome } from '../builder/run-process.js';

/** What every task executor may use. */
export interface TaskContext {
  readonly store: Store;
  readonly runId: string;
  readonly app: string;
  readonly index: number;
  readonly actor: string;
  log(message: string): Promise<void>;
  /** Resolves when the deployment has ended (it may be resumed after a restart). */
  waitForDeployment(id: string): Promise<Deployment>;
  /** Set when the run is cancelled (by a rollback); long tasks stop early. */
  readonly signal: AbortSignal;
}

export class TaskFailed extends Error {}

/**
 * The release a deploy task makes live (or stages) in its environment: the run's build — each
 * component's slug as the build recorded it — with that environment's current config (its active
 * release's; see docs/rollbacks.md, "Which config a change uses"). Not stored here: the deployment
 * stores it, so a refused deployment leaves no release behind.
 */
export async function releaseForDeploy(ctx: TaskContext, build: Build, task: Extract<TaskDef, { kind: 'deploy' }>): Promise<Release> {
  const recorded = build.release ? await ctx.store.releases.get(ctx.app, build.release) : undefined;
  const current = await ctx.store.releases.current(ctx.app, task.env);
  return makeRelease({
    app: ctx.app,
    env: task.env,
    kind: 'build',
    builds: usesOf(build, recorded),
    config: current?.config ?? {},
    manifest: build.manifest,
    description: build.description,
    source: recorded?.id ?? null,
    createdBy: ctx.actor,
  });
}

/** The slug a `run` task runs in: the build's web component (else its first), wherever that slug was built. */
export async function runTaskSlug(store: Store, build: Build): Promise<string | undefined> {
  if (build.status !== 'succeeded') return undefined;
  const recorded = build.release ? await store.releases.get(build.app, build.release) : undefined;
  const uses = usesOf(build, recorded);
  const names = Object.keys(uses);
  const component = names.includes('web') ? 'web' : names[0];
  if (component === undefined) return undefined;
  return (await store.builds.byId(uses[component]))?.artifacts[component];
}

/** Argv and environment of a `run` task: the command through /bin/sh -c, with the environment's URL. */
export function runTaskCommand(task: Extract<TaskDef, { kind: 'run' }>, app: string, url: string) {
  return {
    argv: buildCommandArgv(task.command),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      LANG: process.env.LANG ?? 'C.UTF-8',
      URL: url,
      REWIND_URL: url,
      REWIND_APP: app,
      REWIND_ENV: task.env,
    },
  };
}

/**
 * Runs a `run` task's command in a scratch copy of the run's build (`slug`, a tar.gz) when there is
 * one, else in an empty folder; its exit code decides. Output goes to the run's log.
 */
export async function runCommandTask(ctx: TaskContext, task: Extract<TaskDef, { kind: 'run' }>, url: string, slug?: string): Promise<void> {
  const { argv, env } = runTaskCommand(task, ctx.app, url);
  const scratch = await mkdtemp(join(tmpdir(), 'rewind-run-'));
  const cwd = join(scratch, 'files');
  try {
    if (slug) await safeExtract(slug, cwd, { maxBytes: 4 * 1024 ** 3, maxEntries: 500_000 });
    else await mkdir(cwd);
    const output = new TaskOutput((line) => void ctx.log(line), logKeepBytes());
    const outcome = await runProcess({ argv, cwd, env, timeoutMs: task.timeoutMs, signal: ctx.signal, onOutput: (chunk) => output.data(chunk) });
    output.end();
    const failure = commandFailure(outcome, task.timeoutMs);
    if (failure) throw new TaskFailed(failure);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Why a `run` task's command failed, or null when it exited 0. */
function commandFailure(outcome: ProcessOutcome, timeoutMs: number): string | null {
  switch (outcome.kind) {
    case 'exited':
      return outcome.code === 0 ? null : `the command exited with code ${outcome.code}`;
    case 'timed-out':
      return `the command timed out after ${timeoutMs / 1000} s`;
    case 'cancelled':
      return 'the command cancelled';
    case 'not-started':
      return `the command ${outcome.message}`;
  }
}

/** Longest line a task's log takes; a longer one is split (a command may print megabytes without a newline). */
const MAX_LINE = 16 * 1024;
/** Lines kept at each end of a task's output: each is a row of the run's log. */
export const TASK_LOG_KEEP_LINES = 1000;

/**
 * A command's output as log lines, bounded like a build log: the first `keep` bytes (at most
 * `keepLines` lines) as they come, then only the last ones, logged at the end after a line
 * saying what was cut.
 */
export class TaskOutput {
  private pending = '';
  private headBytes: number;
  private headLines: number;
  private tail: string[] = [];
  private tailBytes = 0;
  private cutBytes = 0;
  private cutLines = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly keep: number,
    private readonly keepLines = TASK_LOG_KEEP_LINES,
  ) {
    this.headBytes = keep;
    this.headLines = keepLines;
  }

  data(b: Buffer | string): void {
    this.pending += b.toString();
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    while (this.pending.length > MAX_LINE) {
      lines.push(this.pending.slice(0, MAX_LINE));
      this.pending = this.pending.slice(MAX_LINE);
    }
    for (const l of lines) this.line(l);
  }

  end(): void {
    if (this.pending) this.line(this.pending);
    this.pending = '';
    if (this.cutLines > 0) {
      const kept = `the first and last ${+(this.keep / 1024 / 1024).toFixed(3)} MiB (at most ${this.keepLines} lines) are kept; REWIND_LOG_KEEP_MB sets it`;
      this.log(`… ${this.cutBytes} bytes cut (${this.cutLines} lines; ${kept}) …`);
    }
    for (const l of this.tail) this.log(l);
    this.tail = [];
  }

  private line(l: string): void {
    const n = Buffer.byteLength(l) + 1;
    if (this.tail.length === 0 && this.headBytes >= n && this.headLines > 0) {
      this.headBytes -= n;
      this.headLines--;
      this.log(l);
      return;
    }
    this.headBytes = 0;
    this.tail.push(l);
    this.tailBytes += n;
    while ((this.tailBytes > this.keep || this.tail.length > this.keepLines) && this.tail.length > 0) {
      const dropped = Buffer.byteLength(this.tail.shift()!) + 1;
      this.tailBytes -= dropped;
      this.cutBytes += dropped;
      this.cutLines++;
    }
  }
}
