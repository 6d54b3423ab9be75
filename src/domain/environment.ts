import type { EnvSettings } from './env-settings.js';

export interface AppRow {
  readonly name: string;
  readonly createdAt: string;
}

/** An environment as stored. */
export interface EnvironmentRow {
  readonly app: string;
  readonly name: string;
  readonly position: number;
  readonly proxyPort: number;
  readonly activeRelease: string | null;
  readonly createdAt: string;
  readonly settings: EnvSettings;
  /** Where it runs: `local`, or the name of a target (see `rewind targets`). */
  readonly target: string;
}

/** An environment as the engine reports it: where it serves and how healthy it is. */
export interface EnvironmentSummary {
  readonly app: string;
  readonly name: string;
  readonly position: number;
  readonly activeRelease: string | null;
  readonly proxyPort: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** healthy | unhealthy | empty (runs nothing) | unknown (agent unreachable) | deploying */
  readonly health: string;
  /** component → URL, for HTTP components other than the one at `url` */
  readonly components: Readonly<Record<string, string>>;
  /** Where it runs: `local`, or the name of a target. */
  readonly target: string;
  readonly createdAt: string;
}

export interface AppSummary {
  readonly name: string;
  readonly createdAt: string;
  readonly environments: readonly EnvironmentSummary[];
}

/** One running (or standby) instance of a component, as the target observes it. */
export interface ProcessInfo {
  readonly id: string;
  readonly component: string;
  readonly release: string;
  readonly build: string;
  readonly pid: number | null;
  readonly port: number | null;
  readonly state: string;
  readonly startedAt: string;
  readonly restarts: number;
  /** resident memory in bytes */
  readonly rss: number | null;
  /** For warm-standby instances: when they will be stopped. */
  readonly standbyUntil: string | null;
  /** The host it runs on, for a target of several hosts (a Swarm node); null on `local`. */
  readonly node: string | null;
}
