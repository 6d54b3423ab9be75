import type { Readable } from 'node:stream';
import type { AgentEvent, AgentSnapshot, DesiredState, ExecEvent, ExecRequest, ObservedApp } from '../protocol/agent-protocol.js';

export interface ApplyResult {
  readonly ok: boolean;
  /** The release that takes traffic once apply has finished (the previous one when it failed). */
  readonly release: string | null;
  readonly error?: string;
}

export interface LogOptions {
  readonly follow: boolean;
  /** How many past lines to send first. */
  readonly lines: number;
  readonly signal?: AbortSignal;
}

/**
 * Where an environment runs. The engine talks to targets only through this port;
 * `local` (the agent on this host) implements it, `ssh` will.
 */
export interface Target {
  /** Converges app/env to `desired`: start, health-check, switch, drain. Resolves when the switch happened or failed. */
  apply(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<ApplyResult>;
  /** What runs for app/env now; null when the target knows nothing of it. */
  observe(app: string, env: string): Promise<ObservedApp | null>;
  /** Everything the target runs. */
  observeAll(): Promise<readonly ObservedApp[]>;
  /** Log lines of app/env's instances (`TIMESTAMP component.instance message`), newline-separated. */
  logs(app: string, env: string, options: LogOptions): Promise<Readable>;
  /**
   * Captures what is actually live for app/env (files on disk, config in effect), for backups
   * before a deploy. Optional: a target without it can't back up.
   */
  snapshot?(app: string, env: string): Promise<AgentSnapshot>;
  /**
   * Runs a one-off command in app/env's live release (`rewind exec`); resolves once it started,
   * with its output and exit. `signal` stops it. Optional: a target without it can't run commands.
   */
  exec?(app: string, env: string, request: ExecRequest, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>>;
  /**
   * Pins an image reference as this target would run it (`repo@sha256:…`, or an image id), for a
   * build of an image component. Optional: a target without it runs no images.
   */
  resolveImage?(ref: string): Promise<{ readonly pinned: string; readonly digest: string }>;
  /** Stops every instance of app/env and frees its proxy port. */
  remove(app: string, env: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Which target runs an environment. The engine asks it per environment; `all()` lists every
 * distinct target (for observing everything, recovery and close). Today every environment
 * resolves to the one local target (`singleTarget`); an environment record may name its
 * target later.
 */
export interface TargetResolver {
  forEnv(app: string, env: string): Target;
  all(): readonly Target[];
}

/** A resolver that sends every environment to `target` (the composition root and tests). */
export function singleTarget(target: Target): TargetResolver {
  return { forEnv: () => target, all: () => [target] };
}
