/**
 * The wire protocol between the control plane (engine, via a Target) and the agent.
 * The agent imports only this file from the rest of Rewind.
 */

export interface HealthSpec {
  /** HTTP path probed with GET; 2xx/3xx is healthy. Absent: TCP connect to the port, or (no port) the process staying up. */
  readonly path?: string;
  /** How long new instances get to become healthy before the rollout fails. */
  readonly timeoutMs: number;
  /** Delay between probes. */
  readonly intervalMs: number;
}

export interface DesiredComponent {
  readonly name: string;
  /** Shell command line from the manifest, run as ['/bin/sh', '-c', command] in the slug dir. Absent for static components. */
  readonly command?: string;
  /** Folder (relative to the slug root) served as files by the agent instead of a process. */
  readonly static?: string;
  /** True when the component serves HTTP on $PORT; the `web` component is what the proxy routes to. */
  readonly port: boolean;
  readonly health: HealthSpec;
  readonly scale: number;
  /** The build this component runs (for reporting) and its slug tarball (tar.gz, content-addressed). */
  readonly build: string;
  readonly artifact: { readonly sha256: string; readonly path: string };
}

export interface DesiredState {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  readonly deployment?: string;
  /** The stable port on which the agent proxies this app/env's web component. */
  readonly proxyPort: number;
  readonly config: Readonly<Record<string, string>>;
  readonly components: readonly DesiredComponent[];
  /** How long old instances may finish in-flight requests before they are stopped. */
  readonly drainTimeoutMs: number;
}

export type InstanceState = 'starting' | 'healthy' | 'running' | 'unhealthy' | 'crashed' | 'stopping' | 'standby';

export interface ObservedInstance {
  readonly id: string;
  readonly component: string;
  readonly release: string;
  readonly build: string;
  readonly pid: number | null;
  readonly port: number | null;
  readonly state: InstanceState;
  readonly startedAt: string;
  readonly restarts: number;
  /** Resident memory in bytes, when the agent could read it. */
  readonly rss?: number;
}

export interface ObservedApp {
  readonly app: string;
  readonly env: string;
  /** The release whose instances take traffic now; null when nothing runs. */
  readonly release: string | null;
  readonly proxyPort: number;
  /** Present while a rollout to another release is under way. */
  readonly rollout?: { readonly release: string; readonly deployment?: string; readonly phase: string };
  readonly instances: readonly ObservedInstance[];
}

export interface AgentState {
  readonly pid: number;
  readonly version: string;
  readonly apps: readonly ObservedApp[];
}

/**
 * POST /v1/deploy answers with newline-delimited JSON, one AgentEvent per line.
 * The last line is always a `result`. The rollout goes on if the client goes away.
 */
export type AgentEvent =
  | { readonly type: 'log'; readonly at: string; readonly message: string }
  | { readonly type: 'result'; readonly at: string; readonly ok: true; readonly release: string }
  | { readonly type: 'result'; readonly at: string; readonly ok: false; readonly error: string; readonly release: string | null };

/** Written by the agent into its data dir so that the server (and tests) can find it. */
export interface AgentInfo {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly startedAt: string;
}

export const AGENT_INFO_FILE = 'agent.json';
export const AGENT_STATE_FILE = 'agent-state.json';
