/**
 * The changes a Swarm target makes to services it did not just create: marking a release current
 * (its fence), marking a replaced one as warm standby, removing what is no longer kept. Every
 * update passes the `Version.Index` it read, so a concurrent change is refused, never overwritten.
 */
import type { DockerEngine } from './docker-engine.js';
import { EngineConflictError, EngineNotFoundError } from './docker-errors.js';
import type { Service } from './docker-types.js';
import { LABEL } from './swarm-names.js';
import { type EnvState, labelOf, type ReleaseServices, standbyOf } from './swarm-state.js';

/** A service changed between Rewind's read and its update (Docker's "update out of sequence"). */
export class StaleServiceError extends Error {
  constructor(service: Service, what: string) {
    super(
      `service ${service.Spec.Name ?? service.ID} changed while Rewind was ${what} (its spec is no longer version ${service.Version.Index}); nothing was overwritten: retry`,
    );
    this.name = 'StaleServiceError';
  }
}

/** Sets labels of a service as it was read (null deletes one), passing the version read. */
export async function relabel(engine: DockerEngine, service: Service, changes: Readonly<Record<string, string | null>>, what: string): Promise<void> {
  const labels: Record<string, string> = { ...service.Spec.Labels };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete labels[key];
    else labels[key] = value;
  }
  try {
    await engine.updateService(service.ID, service.Version.Index, { ...service.Spec, Labels: labels });
  } catch (err) {
    if (err instanceof EngineConflictError && err.reason === 'stale-version') throw new StaleServiceError(service, what);
    throw err;
  }
}

/** Removes services; one already gone is no error. */
export async function removeServices(engine: DockerEngine, ids: readonly string[]): Promise<void> {
  await Promise.all(
    ids.map((id) =>
      engine.removeService(id).catch((err: unknown) => {
        if (!(err instanceof EngineNotFoundError)) throw err;
      }),
    ),
  );
}

/** A fence above every earlier one, even after app/env's services were all removed (it starts from the clock). */
export function nextFence(state: EnvState, now: number): number {
  return Math.max(state.maxFence + 1, now);
}

/** Who a service is in the release it serves: a service claimed from another release (same spec) takes the new one's identity. */
export interface Identity {
  readonly release: string;
  readonly build: string;
  readonly deployment?: string;
  readonly proxyPort: number;
}

/**
 * Makes the release of `services` current: each gets the fence (the highest wins) and the
 * release's identity, in one update. The first update is the switch: refused, nothing switched
 * and it throws. A later one refused as stale is read again and retried once with only these
 * labels changed (the switch has happened; the other change is kept); still refused, it is said.
 */
export async function markCurrent(
  engine: DockerEngine,
  services: readonly Service[],
  identity: (s: Service) => Identity,
  fence: number,
  say: (m: string) => void,
): Promise<void> {
  const changesOf = (s: Service) => {
    const who = identity(s);
    return {
      [LABEL.current]: String(fence),
      [LABEL.standbyUntil]: null,
      [LABEL.drainUntil]: null,
      [LABEL.release]: who.release,
      [LABEL.proxyPort]: String(who.proxyPort),
      [LABEL.build]: who.build,
      [LABEL.deployment]: who.deployment ?? null,
    };
  };
  const [first, ...rest] = services;
  const what = `switching to ${identity(first).release}`;
  await relabel(engine, first, changesOf(first), what);
  for (const s of rest) {
    try {
      await relabel(engine, s, changesOf(s), what).catch(async (err: unknown) => {
        if (!(err instanceof StaleServiceError)) throw err;
        await relabel(engine, await engine.inspectService(s.ID), changesOf(s), what);
      });
    } catch (err) {
      say(`${identity(s).release} is current, but ${s.Spec.Name} could not be marked as its: ${(err as Error).message}`);
    }
  }
}

/** Marks the replaced release's services as kept (warm standby, or draining) until `until`; a refused one is said, and left to the next sweep. */
export async function markStandby(
  engine: DockerEngine,
  release: ReleaseServices,
  label: typeof LABEL.standbyUntil | typeof LABEL.drainUntil,
  until: number,
  say: (m: string) => void,
): Promise<void> {
  for (const s of release.services) {
    await relabel(engine, s, { [label]: String(until) }, `keeping ${release.release}`).catch((err: Error) =>
      say(`Could not keep ${s.Spec.Name}: ${err.message}`),
    );
  }
}

/**
 * The services to remove: every release but the current one, the `exempt` ones (being applied),
 * the `count` most recently replaced ones still within their standby time, and those draining.
 */
export function sweepable(state: EnvState, count: number, now: number, exempt: ReadonlySet<string>): ReleaseServices[] {
  const warm = standbyOf(state)
    .filter((r) => (r.standbyUntil ?? 0) > now && !exempt.has(r.release))
    .slice(0, Math.max(0, count));
  const draining = [...state.releases.values()].filter((r) => (r.drainUntil ?? 0) > now);
  const keep = new Set([state.current, ...warm, ...draining]);
  return [...state.releases.values()].filter((r) => !keep.has(r) && !exempt.has(r.release));
}

/** Removes what `sweepable` picks; says which releases went. */
export async function sweep(engine: DockerEngine, state: EnvState, count: number, exempt: ReadonlySet<string>, say: (m: string) => void): Promise<void> {
  const gone = sweepable(state, count, Date.now(), exempt);
  if (gone.length === 0) return;
  await removeServices(
    engine,
    gone.flatMap((r) => r.services.map((s) => s.ID)),
  );
  const of = (pick: (r: ReleaseServices) => boolean) => gone.filter(pick).map((r) => r.release);
  const standby = of((r) => r.standbyUntil !== null);
  const drained = of((r) => r.standbyUntil === null && r.drainUntil !== null);
  const other = of((r) => r.standbyUntil === null && r.drainUntil === null);
  if (standby.length > 0) say(`Removed the standby services of ${standby.join(', ')}`);
  if (drained.length > 0) say(`Removed the drained services of ${drained.join(', ')}`);
  if (other.length > 0) say(`Removed the services of ${other.join(', ')} (replaced, or never switched to)`);
}

export const componentOf = (s: Service) => labelOf(s, LABEL.component);
