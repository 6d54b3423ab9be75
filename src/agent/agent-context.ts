/** What every app runtime of the agent shares: its directories, slug cache, data plane, logger and persistence. */
import type { AppRuntime } from './app-runtime.js';
import type { DataPlane } from './data-plane.js';
import type { SlugCache } from './slug-cache.js';

/** Minimal pino-compatible logger for the agent's own diagnostics. */
export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AgentContext {
  readonly dataDir: string;
  readonly slugs: SlugCache;
  readonly agentEnv: Readonly<Record<string, string | undefined>>;
  readonly logger: AgentLogger;
  /** Grace between SIGTERM and SIGKILL when stopping an instance. */
  readonly stopGraceMs: number;
  readonly plane: DataPlane;
  /** Records the agent's state (written behind, off the event loop); resolves once durable, never rejects. */
  persist(): Promise<void>;
  /** The watched release of `runtime` misbehaves; true when an automatic rollback was started. */
  tripped(runtime: AppRuntime, reason: string): boolean;
}
