/**
 * The environments' targets as data (issue 12 item 3): a TargetResolver over the store. `forEnv`
 * stays synchronous: the map environment → target name is loaded at start and kept up to date by
 * the engine when environments are created or deleted; each target is made on first use (a Swarm
 * target connects on its first call) and closed at shutdown. `local` is always there.
 */
import { LOCAL_TARGET, type TargetRow } from '../domain/target.js';
import type { Store } from '../store/store.js';
import type { Target, TargetResolver } from '../targets/target.js';

const keyOf = (app: string, env: string) => JSON.stringify([app, env]);

export class TargetRegistry implements TargetResolver {
  readonly #envs = new Map<string, string>();
  readonly #rows = new Map<string, TargetRow>();
  readonly #made = new Map<string, Target>();

  /** `make` turns a row into its target (the composition root gives it the edges' token). */
  constructor(
    private readonly local: Target,
    private readonly make: (row: TargetRow) => Target,
  ) {}

  /** Reads every target and which environments run on one. */
  async load(store: Store): Promise<this> {
    for (const row of await store.targets.list()) this.#rows.set(row.name, row);
    for (const env of await store.apps.allEnvironments()) if (env.target !== LOCAL_TARGET) this.#envs.set(keyOf(env.app, env.name), env.target);
    return this;
  }

  forEnv(app: string, env: string): Target {
    const name = this.#envs.get(keyOf(app, env)) ?? LOCAL_TARGET;
    if (name === LOCAL_TARGET) return this.local;
    const made = this.#made.get(name);
    if (made) return made;
    const row = this.#rows.get(name);
    // The store refuses to delete a target in use, so a known environment always finds its row.
    if (!row) throw new Error(`environment ${app}/${env} runs on target "${name}", which is not loaded`);
    const target = this.make(row);
    this.#made.set(name, target);
    return target;
  }

  all(): readonly Target[] {
    return [this.local, ...this.#made.values()];
  }

  added(row: TargetRow): void {
    this.#rows.set(row.name, row);
  }

  /** A target removed (no environment uses it): closes it if it was made. */
  async removed(name: string): Promise<void> {
    this.#rows.delete(name);
    const made = this.#made.get(name);
    this.#made.delete(name);
    await made?.close();
  }

  assign(app: string, env: string, target: string): void {
    if (target === LOCAL_TARGET) this.#envs.delete(keyOf(app, env));
    else this.#envs.set(keyOf(app, env), target);
  }

  unassign(app: string, env: string): void {
    this.#envs.delete(keyOf(app, env));
  }

  /** Closes the targets made from rows (the composition root closes `local`). */
  async close(): Promise<void> {
    const made = [...this.#made.values()];
    this.#made.clear();
    await Promise.allSettled(made.map((t) => t.close()));
  }
}

/** The registry behind a resolver, when the resolver is one (tests pass `singleTarget`). */
export const registryOf = (targets: TargetResolver): TargetRegistry | null => (targets instanceof TargetRegistry ? targets : null);
