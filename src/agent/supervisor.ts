/**
 * Process handles: spawn an instance detached (its own process group, output straight to its log
 * file, so it survives the agent), re-adopt a pid after an agent restart, stop a group gracefully.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstancePlan } from './process-commands.js';
import { groupAlive, isAlive, processStartTime, signalGroup } from './proc-info.js';

export interface ExitInfo {
  /** Exit code, or null when killed by a signal or when the agent did not spawn it (adopted). */
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the process could not be started at all. */
  readonly error?: string;
}

export interface ProcessHandle {
  /** null for in-agent servers (static components). */
  readonly pid: number | null;
  readonly pidStart?: string;
  /** Resolves when the process exits on its own or is stopped; never after `release()`. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
  /** Stops watching without stopping the process (the agent is shutting down). */
  release(): void;
}

export const ADOPTED_POLL_MS = 500;

/** A promise settled from outside, that can be muted so late settles are ignored. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; mute(): void } {
  let settle!: (value: T) => void;
  let muted = false;
  const promise = new Promise<T>((resolve) => (settle = resolve));
  return { promise, resolve: (value) => !muted && settle(value), mute: () => (muted = true) };
}

/** Describes an exit for log lines: "code 1", "signal SIGKILL". */
export function describeExit(info: ExitInfo): string {
  if (info.error) return `failed to start (${info.error})`;
  if (info.code !== null) return `exited with code ${info.code}`;
  if (info.signal !== null) return `was killed by ${info.signal}`;
  return 'disappeared';
}

async function stopGroup(pid: number, graceMs: number, dead: () => boolean): Promise<void> {
  const gone = () => dead() && !groupAlive(pid);
  if (gone()) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (gone()) return;
  }
  signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 40 && !gone(); i++) await sleep(50);
}

/** Spawns `plan` detached, stdout and stderr appended to `logPath`. Rejects only if the agent cannot open the log. */
export async function spawnInstance(plan: InstancePlan, logPath: string): Promise<ProcessHandle> {
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const fd = openSync(logPath, 'a', 0o600);
  const exit = deferred<ExitInfo>();
  let exitedAlready = false;
  try {
    const [file, ...args] = plan.argv;
    const child = spawn(file as string, args, {
      cwd: plan.cwd,
      env: plan.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    child.once('exit', (code, signal) => {
      exitedAlready = true;
      exit.resolve({ code, signal });
    });
    const error = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (err) => resolve(err));
    });
    if (error || child.pid === undefined) {
      const message = (error as NodeJS.ErrnoException | null)?.code ?? error?.message ?? 'no pid';
      return deadHandle({ code: null, signal: null, error: message });
    }
    const pid = child.pid;
    return {
      pid,
      pidStart: processStartTime(pid),
      exited: exit.promise,
      stop: (graceMs) => stopGroup(pid, graceMs, () => exitedAlready),
      release: () => exit.mute(),
    };
  } finally {
    closeSync(fd);
  }
}

function deadHandle(info: ExitInfo): ProcessHandle {
  return { pid: null, exited: Promise.resolve(info), stop: async () => {}, release: () => {} };
}

/** Watches a pid the agent did not spawn (it survived an agent restart); polls for its death. */
export function adoptProcess(pid: number, pidStart: string | undefined): ProcessHandle {
  const exit = deferred<ExitInfo>();
  const alive = () => isAlive(pid, pidStart);
  const timer = setInterval(() => {
    if (!alive()) {
      clearInterval(timer);
      exit.resolve({ code: null, signal: null });
    }
  }, ADOPTED_POLL_MS).unref();
  return {
    pid,
    pidStart,
    exited: exit.promise,
    stop: async (graceMs) => {
      await stopGroup(pid, graceMs, () => !alive());
      clearInterval(timer);
      exit.resolve({ code: null, signal: 'SIGTERM' });
    },
    release: () => {
      clearInterval(timer);
      exit.mute();
    },
  };
}

/** Kills a leftover group (an instance recorded as starting or draining when the agent died). */
export async function stopOrphan(pid: number, pidStart: string | undefined, graceMs: number): Promise<boolean> {
  if (!isAlive(pid, pidStart)) return false;
  await stopGroup(pid, graceMs, () => !isAlive(pid, pidStart));
  return true;
}
