/**
 * One running copy of a component, as the agent tracks it, and how it is reported and persisted.
 */
import { randomBytes } from 'node:crypto';
import type { DesiredComponent, DesiredState, InstanceState, ObservedInstance } from '../protocol/agent-protocol.js';
import { readTreeRss } from './proc-info.js';
import type { Upstream } from './proxy.js';
import type { InstanceRole, PersistedInstance } from './state-file.js';
import type { ProcessHandle } from './supervisor.js';

export interface Instance {
  readonly id: string;
  /**
   * The desired state of the release this instance belongs to (its config, its component).
   * Relabelled when a rollback release (a copy with a new id) reuses it from the warm standby.
   */
  desired: DesiredState;
  component: DesiredComponent;
  /**
   * Its own working copy of the build's files (work-copy.ts), made afresh at each start; an
   * instance an older agent started may still run in the slug itself.
   */
  workDir: string;
  role: InstanceRole;
  state: InstanceState;
  handle: ProcessHandle | null;
  port: number | null;
  startedAt: string;
  restarts: number;
  /** Consecutive failed starts, for the restart backoff. */
  failures: number;
  stopping: boolean;
  restartTimer: NodeJS.Timeout | null;
  /** Aborts a restart in progress when the instance is being stopped. */
  abort: AbortController;
  /** Present while the instance serves HTTP and is up: the proxy routes to it when it is live. */
  upstream: Upstream | null;
  /** Consecutive failed health probes since it was last healthy. */
  probeFailures: number;
  /** Stops its periodic health probes. */
  stopProbe: (() => void) | null;
}

export function createInstance(fields: {
  id: string;
  desired: DesiredState;
  component: DesiredComponent;
  workDir: string;
  role: InstanceRole;
  port: number | null;
  restarts?: number;
}): Instance {
  return {
    ...fields,
    state: 'starting',
    handle: null,
    startedAt: new Date().toISOString(),
    restarts: fields.restarts ?? 0,
    failures: 0,
    stopping: false,
    restartTimer: null,
    abort: new AbortController(),
    upstream: null,
    probeFailures: 0,
    stopProbe: null,
  };
}

/** A short random id (`ab12cd`), unique among `taken`. */
export function newInstanceId(taken: ReadonlySet<string>): string {
  for (;;) {
    const id = randomBytes(3).toString('hex');
    if (!taken.has(id)) return id;
  }
}

/** `web.ab12cd`: how logs and messages name an instance. */
export function label(instance: Pick<Instance, 'id' | 'component'>): string {
  return `${instance.component.name}.${instance.id}`;
}

/** What the agent reports of an instance; `standbyUntil` (epoch ms) for one on standby. */
export function observeInstance(instance: Instance, standbyUntil?: number): ObservedInstance {
  // A crashed instance waiting for its restart has no process: do not report the dead pid.
  const pid = instance.state === 'crashed' ? null : (instance.handle?.pid ?? null);
  const rss = pid !== null ? readTreeRss(pid) : undefined;
  return {
    id: instance.id,
    component: instance.component.name,
    release: instance.desired.release,
    build: instance.component.build,
    pid,
    port: instance.port,
    state: instance.state,
    startedAt: instance.startedAt,
    restarts: instance.restarts,
    ...(rss !== undefined ? { rss } : {}),
    ...(standbyUntil !== undefined ? { standbyUntil: new Date(standbyUntil).toISOString() } : {}),
  };
}

export function persistInstance(instance: Instance, logOffset: number): PersistedInstance {
  const pidStart = instance.handle?.pidStart;
  return {
    id: instance.id,
    component: instance.component.name,
    release: instance.desired.release,
    build: instance.component.build,
    role: instance.role,
    dir: instance.workDir,
    pid: instance.handle?.pid ?? null,
    ...(pidStart !== undefined ? { pidStart } : {}),
    port: instance.port,
    startedAt: instance.startedAt,
    restarts: instance.restarts,
    logOffset,
  };
}
