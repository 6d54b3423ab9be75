/**
 * The wire protocol between the control plane (engine, via a Target) and the agent.
 * The agent imports only this file from the rest of Rewind.
 */

/** How the agent checks an instance's health. The manifest's copy (src/domain/health.ts) has the same shape; the engine passes it as this one (the agent imports nothing but this folder). */
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
  /**
   * An image component: the container image it runs, pinned by digest (`repo@sha256:…`) or by
   * image id (`sha256:…`), never by a tag that can move. Only a Swarm target runs images; the
   * agent runs `artifact`.
   */
  readonly image?: string;
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
  /** How long old instances may finish in-flight requests (and keep WebSockets, streams) before they are cut. */
  readonly drainTimeoutMs: number;
  /**
   * Other HTTP components reachable on their own stable port: component name → port. The routed
   * component (`web`) is on `proxyPort` and must not be listed. A component that was routed before
   * and is absent from a later desired state keeps its port, which answers 404 "not deployed".
   */
  readonly routes?: Readonly<Record<string, number>>;
  /**
   * Warm standby: after a switch the replaced release's instances keep running without traffic for
   * `keepMs`, at most `count` releases, so that rolling back to one is a route swap. Default 15 min, 1;
   * `count: 0` stops replaced instances once drained.
   */
  readonly standby?: { readonly keepMs: number; readonly count: number };
  /**
   * For `windowMs` after the switch the agent watches the new release; when its web instances fail
   * 3 health probes in a row or its instances crash 3 times, it switches back to the previous release
   * by itself and reports it in `ObservedApp.autoRollbacks`. Absent: no watch.
   */
  readonly autoRollback?: { readonly windowMs: number };
}

export const DEFAULT_STANDBY = { keepMs: 15 * 60_000, count: 1 } as const;

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
  /** For standby instances (state `standby`, or crashed/restarting while on standby): when they are stopped. */
  readonly standbyUntil?: string;
  /** The host it runs on, for a target of several hosts (a Swarm node's name); absent on the local agent. */
  readonly node?: string;
}

/** A switch back to the previous release that the agent made on its own (DesiredState.autoRollback). */
export interface AutoRollback {
  readonly id: string;
  /** The release that was rolled back (and whose instances were stopped). */
  readonly from: string;
  /**
   * The release serving after the rollback. The agent records only rollbacks that succeeded (a
   * failed attempt is in the app's log, and `from` keeps serving); null is never sent today.
   */
  readonly to: string | null;
  /** The deployment that made `from` live, when its desired state named one. */
  readonly deployment?: string;
  readonly reason: string;
  readonly at: string;
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
  /** Route ports of the deployed components other than the routed one (DesiredState.routes). */
  readonly routes?: Readonly<Record<string, number>>;
  /** Route ports kept open for components the running release does not have: they answer 404. */
  readonly undeployedRoutes?: Readonly<Record<string, number>>;
  /** Present while the agent watches `release` for an automatic rollback to `previous`. */
  readonly watch?: { readonly release: string; readonly previous: string; readonly until: string };
  /** The last automatic rollbacks, oldest first (at most 10). */
  readonly autoRollbacks?: readonly AutoRollback[];
}

export interface AgentState {
  readonly pid: number;
  readonly version: string;
  /** Who serves the proxy ports: the agent itself, or an nginx master it runs. */
  readonly proxy?: 'builtin' | 'nginx';
  /** The shared port routing by host name (`APP.localhost`, `APP.ENV.localhost`), when one is open. */
  readonly sharedPort?: number;
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

/** One component of a snapshot: its files as they are on disk now, packed as a slug (tar.gz). */
export interface SnapshotComponent {
  readonly name: string;
  /** The build it was started from (the files may have drifted since). */
  readonly build: string;
  readonly sha256: string;
  /** Where the agent wrote the tarball; the control plane copies it into its artifact store. */
  readonly path: string;
  readonly size: number;
}

/**
 * POST /v1/apps/:app/:env/snapshot: what is actually live — every component's files and the
 * config in effect in its processes — even if someone changed them outside Rewind.
 */
export interface AgentSnapshot {
  readonly app: string;
  readonly env: string;
  /** The release serving traffic; null when nothing runs. */
  readonly release: string | null;
  readonly config: Readonly<Record<string, string>>;
  readonly components: readonly SnapshotComponent[];
}

/**
 * POST /v1/apps/:app/:env/exec: a one-off command in the live release (its slug, config and
 * $REWIND_* variables, no $PORT), like `heroku run` or `convox run`.
 */
export interface ExecRequest {
  /** Run through `/bin/sh -c`, as a manifest's commands are. */
  readonly command: string;
  /** Whose slug and environment; default: the routed component (`web`), else the first one. */
  readonly component?: string;
  /** Who asked, for the app's log. */
  readonly actor?: string;
}

/**
 * The exec answer, newline-delimited JSON: `started`, then the command's output as it comes,
 * then one `exit`. The command is stopped (its whole process group) if the client goes away.
 */
export type ExecEvent =
  | { readonly type: 'started'; readonly release: string; readonly component: string; readonly pid: number }
  | { readonly type: 'output'; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'exit'; readonly code: number | null; readonly signal: string | null };
