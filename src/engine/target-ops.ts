/** `rewind targets`: list, add (checked: the Docker host answers and is a swarm manager), remove (refused while in use). */
import { RewindError, rewindError } from '../domain/errors.js';
import { LOCAL_TARGET, type TargetRow, checkTargetInput } from '../domain/target.js';
import type { Store } from '../store/store.js';
import { swarmManagerProblem } from '../targets/swarm/swarm-check.js';
import type { TargetResolver } from '../targets/target.js';
import { registryOf } from './target-registry.js';

export interface TargetSummary {
  readonly name: string;
  readonly kind: 'local' | 'swarm';
  readonly dockerHost: string | null;
  readonly registry: string | null;
  readonly edges: string[];
  readonly environments: string[];
  readonly createdBy: string | null;
  readonly createdAt: string | null;
}

export interface AddTarget {
  readonly name: string;
  readonly kind: 'swarm';
  readonly dockerHost: string;
  readonly registry?: string;
  readonly edges?: readonly string[];
}

export class TargetOps {
  constructor(
    private readonly store: Store,
    private readonly targets: TargetResolver,
  ) {}

  async list(): Promise<TargetSummary[]> {
    const local: TargetSummary = {
      name: LOCAL_TARGET,
      kind: 'local',
      dockerHost: null,
      registry: null,
      edges: [],
      environments: await this.store.targets.users(LOCAL_TARGET),
      createdBy: null,
      createdAt: null,
    };
    const rows = await this.store.targets.list();
    return [local, ...(await Promise.all(rows.map((r) => this.#summary(r))))];
  }

  async #summary(r: TargetRow): Promise<TargetSummary> {
    return { ...r, edges: [...r.edges], environments: await this.store.targets.users(r.name) };
  }

  /** Checks the input, then that the Docker host answers and is a swarm manager; records it with its audit entry. */
  async add(o: AddTarget, actor: string): Promise<TargetSummary> {
    checkTargetInput(o);
    if (await this.store.targets.get(o.name)) throw new RewindError('TARGET_EXISTS', `target "${o.name}" exists already; see "rewind targets"`);
    const problem = await swarmManagerProblem(o.dockerHost);
    if (problem !== null) throw new RewindError('INVALID_TARGET', problem);
    const row: TargetRow = {
      name: o.name,
      kind: o.kind,
      dockerHost: o.dockerHost,
      registry: o.registry ?? null,
      edges: o.edges ?? [],
      createdBy: actor,
      createdAt: new Date().toISOString(),
    };
    await this.store.targets.insert(row);
    registryOf(this.targets)?.added(row);
    await this.store.recordAudit({ actor, action: 'target.add', subject: o.name, detail: { kind: o.kind, dockerHost: o.dockerHost, edges: row.edges.length } });
    return this.#summary(row);
  }

  async remove(name: string, actor: string): Promise<void> {
    if (name === LOCAL_TARGET) throw new RewindError('TARGET_IN_USE', 'target "local" always exists and cannot be removed');
    if (!(await this.store.targets.get(name))) throw rewindError('TARGET_NOT_FOUND', name);
    if (!(await this.store.targets.delete(name))) {
      const users = await this.store.targets.users(name);
      throw new RewindError('TARGET_IN_USE', `target "${name}" runs ${users.join(', ')}; delete those environments first (rewind envs delete ENV -a APP)`);
    }
    await registryOf(this.targets)?.removed(name);
    await this.store.recordAudit({ actor, action: 'target.remove', subject: name });
  }

  /** The target an environment is created on: local, or one that exists. */
  async requireTarget(name: string | undefined): Promise<string> {
    if (name === undefined || name === LOCAL_TARGET) return LOCAL_TARGET;
    if (!(await this.store.targets.get(name))) throw rewindError('TARGET_NOT_FOUND', name);
    if (!registryOf(this.targets)) throw new RewindError('UNSUPPORTED_BY_TARGET', 'this server runs every environment on local; it takes no --target');
    return name;
  }
}
