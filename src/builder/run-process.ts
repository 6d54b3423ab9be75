/**
 * The one way Rewind runs a command of the user's (a build command, a pipeline's `run` task): argv
 * only, never a shell string of ours; its own process group, killed whole on timeout or cancel;
 * its output handed over as it comes.
 */
import { spawn } from 'node:child_process';

export interface ProcessSpec {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Aborting it kills the command (a rollback cancelling a pipeline run). */
  readonly signal?: AbortSignal;
  /** Output of stdout and stderr, interleaved as it arrives. */
  readonly onOutput: (chunk: Buffer) => void;
}

/** How a command ended: its exit code, killed at the timeout or on cancel, or not started at all. */
export type ProcessOutcome =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'not-started'; readonly message: string };

/** Runs the command; resolves once it has exited, or at once when it is killed (timeout, cancel) or cannot start. */
export function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const [command, ...args] = spec.argv;
    const child = spawn(command, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', spec.onOutput);
    child.stderr.on('data', spec.onOutput);
    const done = (outcome: ProcessOutcome) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const kill = (outcome: ProcessOutcome) => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
      done(outcome);
    };
    const timer = setTimeout(() => kill({ kind: 'timed-out' }), spec.timeoutMs);
    const onAbort = () => kill({ kind: 'cancelled' });
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => done({ kind: 'not-started', message: e.message }));
    child.on('close', (code) => done({ kind: 'exited', code: code ?? 1 }));
  });
}
