/**
 * One-off commands (`rewind exec`): a process in a release's slug with its environment, its
 * output streamed to the caller, stopped with its whole process group when the caller leaves.
 */
import { spawn } from 'node:child_process';
import type { ExecEvent, ExecRequest } from '../protocol/agent-protocol.js';
import type { InstancePlan } from './process-commands.js';
import { processStartTime } from './proc-info.js';
import type { ExitInfo } from './supervisor.js';
import { stopOrphan } from './supervisor.js';

/** The longest command accepted, in characters. */
export const MAX_EXEC_COMMAND = 16_384;
/** The longest actor name (it goes into the app's log). */
export const MAX_EXEC_ACTOR = 256;

/** The request, checked; an Error naming every problem otherwise. */
export function validateExecRequest(body: unknown): ExecRequest | Error {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof b.command !== 'string' || b.command.trim() === '') problems.push('command must be a non-empty string');
  else if (b.command.length > MAX_EXEC_COMMAND) problems.push(`command must be at most ${MAX_EXEC_COMMAND} characters`);
  else if (b.command.includes('\0')) problems.push('command must not contain NUL');
  if (b.component !== undefined && (typeof b.component !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(b.component)))
    problems.push('component must match ^[a-z][a-z0-9-]{0,62}$');
  if (b.actor !== undefined && typeof b.actor !== 'string') problems.push('actor must be a string');
  // eslint-disable-next-line no-control-regex
  else if (typeof b.actor === 'string' && (b.actor.length > MAX_EXEC_ACTOR || /[\u0000-\u001f\u007f]/.test(b.actor)))
    problems.push(`actor must be at most ${MAX_EXEC_ACTOR} characters without control characters`);
  if (problems.length) return new Error(`invalid exec request: ${problems.join('; ')}`);
  return {
    command: b.command as string,
    ...(b.component !== undefined ? { component: b.component as string } : {}),
    ...(b.actor !== undefined ? { actor: b.actor as string } : {}),
  };
}

/**
 * Runs `plan` in its own process group (so that everything it starts can be stopped together)
 * and resolves with how it ended. `signal` stops it: SIGTERM to the group, SIGKILL after `graceMs`.
 */
export function runOneOff(
  plan: InstancePlan,
  o: { readonly onSpawn: (pid: number) => void; readonly onEvent: (event: ExecEvent) => void; readonly signal: AbortSignal; readonly graceMs: number },
): Promise<ExitInfo & { pid: number | null }> {
  const { onEvent, signal, graceMs } = o;
  return new Promise((resolve) => {
    const [file, ...args] = plan.argv;
    const child = spawn(file as string, args, { cwd: plan.cwd, env: plan.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = () => {
      if (child.pid !== undefined) void stopOrphan(child.pid, processStartTime(child.pid), graceMs);
    };
    child.once('spawn', () => {
      o.onSpawn(child.pid as number);
      signal.addEventListener('abort', stop, { once: true });
      if (signal.aborted) stop();
    });
    child.stdout.setEncoding('utf8').on('data', (text: string) => onEvent({ type: 'output', stream: 'stdout', text }));
    child.stderr.setEncoding('utf8').on('data', (text: string) => onEvent({ type: 'output', stream: 'stderr', text }));
    child.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', stop);
      resolve({ pid: null, code: null, signal: null, error: err.code ?? err.message });
    });
    // `close`, not `exit`: every byte of output has been read by then.
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', stop);
      resolve({ pid: child.pid ?? null, code, signal: sig });
    });
  });
}
