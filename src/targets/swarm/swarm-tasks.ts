/**
 * A service's tasks: waiting until every one runs, and where each answers (its node's address and
 * the host port Docker published for it).
 */
import type { DockerEngine } from './docker-engine.js';
import type { Task } from './docker-types.js';

/** A running task and where it answers; `port` is null for a component without a port. */
export interface TaskEndpoint {
  readonly task: Task;
  readonly host: string;
  readonly port: number | null;
}

export interface WaitedService {
  readonly id: string;
  readonly name: string;
  readonly replicas: number;
  /** The container port it publishes, or null. */
  readonly targetPort: number | null;
  /** A service made by this apply: any failed task of it fails the wait. (A reused one may have failed long ago.) */
  readonly fresh: boolean;
}

const FAILED = new Set(['failed', 'rejected']);
const POLL_MS = 100;

export function publishedPort(task: Task, targetPort: number | null): number | null {
  if (targetPort === null) return null;
  return task.Status.PortStatus?.Ports?.find((p) => p.TargetPort === targetPort)?.PublishedPort ?? null;
}

/** node id → its name for people (its hostname, else its address): where `rewind ps` says a task runs. */
export async function nodeNames(engine: DockerEngine): Promise<Map<string, string>> {
  return new Map((await engine.listNodes()).map((n) => [n.ID, n.Description?.Hostname || n.Status.Addr || n.ID]));
}

/** node id → the address its tasks answer on (`Status.Addr`). */
export async function nodeAddresses(engine: DockerEngine): Promise<Map<string, string>> {
  return new Map((await engine.listNodes()).flatMap((n) => (n.Status.Addr ? [[n.ID, n.Status.Addr] as const] : [])));
}

function failureOf(tasks: readonly Task[]): Task | undefined {
  return tasks.find((t) => FAILED.has(t.Status.State));
}

const running = (t: Task) => t.DesiredState === 'running' && t.Status.State === 'running';

/**
 * Polls the service's tasks until `replicas` of them run (with a published port when it has one).
 * Throws one line when a task failed or was rejected (Docker's reason), or at the deadline.
 */
export async function waitRunning(engine: DockerEngine, service: WaitedService, deadline: number): Promise<Task[]> {
  for (;;) {
    const tasks = await engine.listTasks({ service: service.id });
    const failed = service.fresh ? failureOf(tasks) : undefined;
    if (failed) {
      const why = failed.Status.Err || failed.Status.Message || failed.Status.State;
      throw new Error(`a task of ${service.name} ${failed.Status.State}: ${why}`);
    }
    const up = tasks.filter((t) => running(t) && (service.targetPort === null || publishedPort(t, service.targetPort) !== null));
    if (up.length >= service.replicas) return up.slice(0, service.replicas);
    if (Date.now() >= deadline) {
      const states = tasks.filter((t) => t.DesiredState === 'running').map((t) => t.Status.State);
      throw new Error(`${up.length} of ${service.replicas} tasks of ${service.name} running in time (others: ${states.join(', ') || 'none scheduled'})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Where each running task answers; a task on a node without a known address is an error. */
export function endpointsOf(tasks: readonly Task[], nodes: ReadonlyMap<string, string>, targetPort: number | null): TaskEndpoint[] {
  return tasks.map((task) => {
    const host = task.NodeID ? nodes.get(task.NodeID) : undefined;
    if (!host) throw new Error(`task ${task.ID} runs on node ${task.NodeID ?? '(none)'}, whose address the swarm does not report`);
    return { task, host, port: publishedPort(task, targetPort) };
  });
}
