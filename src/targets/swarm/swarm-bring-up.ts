/**
 * Bringing up a release's services on a Swarm. Like the agent, a component reuses a service that
 * already runs exactly what it would run (same image, config, scale and port: the `rewind.spec`
 * label), found by what it runs, not by release id: the release's own, the live one (unchanged
 * component: no restart), or a warm standby one (a rollback, which is a new release copying an
 * older one). A reused service keeps its name (Swarm cannot rename) and takes the new release's
 * labels at the switch. Only what is missing is created.
 */
import type { DesiredComponent, DesiredState } from '../../protocol/agent-protocol.js';
import type { DockerEngine } from './docker-engine.js';
import { EngineConflictError } from './docker-errors.js';
import type { Labels, Service } from './docker-types.js';
import { containerPortOf, LABEL, specFingerprint } from './swarm-names.js';
import { serviceSpecOf } from './swarm-spec.js';
import { type EnvState, labelOf } from './swarm-state.js';
import { componentOf, removeServices } from './swarm-switch.js';

/** A component's service in this rollout. */
export interface Placed {
  readonly component: DesiredComponent;
  readonly id: string;
  readonly name: string;
  /** Created by this apply (removed if it fails), or reused (left as it was if it fails). */
  readonly fresh: boolean;
  readonly targetPort: number | null;
}

export interface BringUp {
  readonly engine: DockerEngine;
  readonly scope: Labels;
  readonly say: (message: string) => void;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** `repo@sha256:0123456789ab…`: enough of the digest to tell images apart in a log line. */
const shortImage = (image: string) => image.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/, 'sha256:$1…');

/** The service to reuse for `c`: the release's own first, then the most recently current. */
function reusableFor(state: EnvState, desired: DesiredState, c: DesiredComponent): Service | undefined {
  const spec = specFingerprint(desired, c);
  const rank = (s: Service) => {
    const release = labelOf(s, LABEL.release) ?? '';
    return release === desired.release ? Number.POSITIVE_INFINITY : (state.releases.get(release)?.fence ?? 0);
  };
  return state.services.filter((s) => componentOf(s) === c.name && labelOf(s, LABEL.spec) === spec && rank(s) > 0).sort((a, b) => rank(b) - rank(a))[0];
}

function placedOf(c: DesiredComponent, id: string, name: string, desired: DesiredState, fresh: boolean): Placed {
  return { component: c, id, name, fresh, targetPort: c.port ? containerPortOf(desired) : null };
}

function sayReused(b: BringUp, state: EnvState, desired: DesiredState, reused: ReadonlyMap<string, Service>): void {
  for (const [component, s] of reused) {
    const from = labelOf(s, LABEL.release) ?? '';
    const how = from === desired.release ? 'already running' : from === state.current?.release ? 'live and unchanged: no restart' : 'warm standby';
    b.say(`Reusing ${s.Spec.Name} for ${component} (of ${from}, ${how})`);
  }
}

/** Places every component (into `placed` as it goes, so that a failure can undo what was created). */
export async function bringUp(b: BringUp, desired: DesiredState, state: EnvState, placed: Placed[]): Promise<void> {
  const reused = new Map<string, Service>();
  for (const c of desired.components) {
    const s = reusableFor(state, desired, c);
    if (s) reused.set(c.name, s);
  }
  const taken = new Set([...reused.values()].map((s) => s.ID));
  const stale = (state.releases.get(desired.release)?.services ?? []).filter((s) => !taken.has(s.ID));
  if (stale.length > 0) {
    b.say(`Removing ${plural(stale.length, 'service')} of ${desired.release} that run another spec`);
    await removeServices(
      b.engine,
      stale.map((s) => s.ID),
    );
  }
  sayReused(b, state, desired, reused);
  for (const c of desired.components) {
    const s = reused.get(c.name);
    placed.push(s ? placedOf(c, s.ID, s.Spec.Name ?? s.ID, desired, false) : await create(b, desired, c));
  }
  if (reused.size === desired.components.length) b.say('Nothing to start');
}

async function create(b: BringUp, desired: DesiredState, c: DesiredComponent): Promise<Placed> {
  const spec = serviceSpecOf(desired, c, b.scope);
  const { id, warnings } = await b.engine.createService(spec).catch((err: unknown) => {
    if (!(err instanceof EngineConflictError && err.reason === 'conflict')) throw err;
    // Not one of this target's (those are found by their labels): someone else's, or another target's labels.
    throw new Error(`a service named ${spec.Name} already exists that this target does not manage (other labels); remove it or rename it, then deploy again`);
  });
  b.say(`starting ${c.name}: service ${spec.Name} (${plural(c.scale, 'task')}, image ${shortImage(c.image!)})`);
  for (const w of warnings) b.say(`docker: ${w}`);
  return placedOf(c, id, spec.Name!, desired, true);
}
