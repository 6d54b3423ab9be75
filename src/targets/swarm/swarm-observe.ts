/**
 * What a Swarm runs for an app/env, as the agent reports it (ObservedApp): one instance per task
 * that Swarm wants running, its state from the task's state and what the release is to the
 * environment (current, standby, or being rolled out).
 */
import type { InstanceState, ObservedApp, ObservedInstance } from '../../protocol/agent-protocol.js';
import type { DockerEngine } from './docker-engine.js';
import type { Service, Task } from './docker-types.js';
import { isoOf } from './swarm-logs.js';
import { LABEL } from './swarm-names.js';
import { type EnvState, labelOf, type ReleaseServices } from './swarm-state.js';
import { publishedPort } from './swarm-tasks.js';

export interface RolloutNote {
  readonly release: string;
  readonly deployment?: string;
  readonly phase: string;
}

const STARTING = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);

type Role = 'current' | 'standby' | 'draining' | 'other';

function stateOf(task: Task, role: Role, hasPort: boolean): InstanceState {
  const s = task.Status.State;
  if (role === 'draining') return 'stopping';
  if (s === 'running') return role === 'standby' ? 'standby' : role === 'other' ? 'starting' : hasPort ? 'healthy' : 'running';
  if (STARTING.has(s)) return 'starting';
  if (s === 'failed' || s === 'rejected') return 'crashed';
  return 'stopping';
}

function roleOf(state: EnvState, release: ReleaseServices | undefined): Role {
  if (release && release === state.current) return 'current';
  if (release?.standbyUntil != null) return 'standby';
  return release?.drainUntil != null ? 'draining' : 'other';
}

function instancesOf(service: Service, tasks: readonly Task[], state: EnvState, nodes: ReadonlyMap<string, string>): ObservedInstance[] {
  const release = labelOf(service, LABEL.release) ?? '';
  const r = state.releases.get(release);
  const role = roleOf(state, r);
  const targetPort = service.Spec.EndpointSpec?.Ports?.[0]?.TargetPort ?? null;
  const live = tasks.filter((t) => t.DesiredState === 'running');
  return live.map((task) => ({
    id: task.ID,
    component: labelOf(service, LABEL.component) ?? '',
    release,
    build: labelOf(service, LABEL.build) ?? '',
    pid: null,
    port: publishedPort(task, targetPort),
    state: stateOf(task, role, targetPort !== null),
    startedAt: isoOf(task.Status.Timestamp ?? '') ?? isoOf(service.CreatedAt) ?? service.CreatedAt,
    restarts: tasks.filter((t) => t.Slot === task.Slot && t !== task && (t.Status.State === 'failed' || t.Status.State === 'rejected')).length,
    ...(role === 'standby' && r?.standbyUntil ? { standbyUntil: new Date(r.standbyUntil).toISOString() } : {}),
    ...(task.NodeID && nodes.has(task.NodeID) ? { node: nodes.get(task.NodeID) } : {}),
  }));
}

const rank = (i: ObservedInstance, current: string | null) => `${i.release === current ? 0 : 1}\0${i.release}\0${i.component}\0${i.id}`;

/** The observed app/env; null when no service of it runs. */
export async function observeEnv(
  engine: DockerEngine,
  state: EnvState,
  nodes: ReadonlyMap<string, string>,
  rollout?: RolloutNote,
): Promise<ObservedApp | null> {
  if (state.services.length === 0) return null;
  const perService = await Promise.all(state.services.map(async (s) => instancesOf(s, await engine.listTasks({ service: s.ID }), state, nodes)));
  const release = state.current?.release ?? null;
  const instances = perService.flat().sort((a, b) => (rank(a, release) < rank(b, release) ? -1 : 1));
  const proxyPort = Number(labelOf((state.current?.services ?? state.services)[0], LABEL.proxyPort) ?? 0);
  return { app: state.app, env: state.env, release, proxyPort, instances, ...(rollout ? { rollout } : {}) };
}
