/**
 * What runs for an app/env, read from the Swarm itself: its services, grouped by release. Which
 * release is current lives in the services' labels (`rewind.current`: the fence of the switch
 * that made it current; the highest wins), so it survives a restart of the target.
 */
import type { DockerEngine } from './docker-engine.js';
import type { Labels, Service } from './docker-types.js';
import { LABEL } from './swarm-names.js';

export interface ReleaseServices {
  readonly release: string;
  readonly services: readonly Service[];
  /** The highest `rewind.current` among its services; 0 when it never was current. */
  readonly fence: number;
  /** While it is on warm standby: until when (epoch ms). */
  readonly standbyUntil: number | null;
  /** Replaced and not kept warm, while the edges drain its requests: until when (epoch ms). */
  readonly drainUntil: number | null;
}

export interface EnvState {
  readonly app: string;
  readonly env: string;
  readonly services: readonly Service[];
  readonly releases: ReadonlyMap<string, ReleaseServices>;
  /** The release whose services carry the highest fence; null when none was ever switched to. */
  readonly current: ReleaseServices | null;
  readonly maxFence: number;
}

const numberLabel = (labels: Labels | undefined, key: string): number | null => {
  const raw = labels?.[key];
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
};

export const labelOf = (s: Service, key: string): string | undefined => s.Spec.Labels?.[key];

function releaseOf(release: string, services: Service[]): ReleaseServices {
  const fences = services.map((s) => numberLabel(s.Spec.Labels, LABEL.current) ?? 0);
  const earliest = (key: string) => {
    const untils = services.flatMap((s) => numberLabel(s.Spec.Labels, key) ?? []);
    return untils.length > 0 ? Math.min(...untils) : null;
  };
  return { release, services, fence: Math.max(0, ...fences), standbyUntil: earliest(LABEL.standbyUntil), drainUntil: earliest(LABEL.drainUntil) };
}

/** Groups app/env's services by release and picks the current one. */
export function envStateOf(app: string, env: string, services: readonly Service[]): EnvState {
  const byRelease = new Map<string, Service[]>();
  for (const s of services) {
    const release = labelOf(s, LABEL.release);
    if (release === undefined) continue;
    byRelease.set(release, [...(byRelease.get(release) ?? []), s]);
  }
  const releases = new Map([...byRelease].map(([r, list]) => [r, releaseOf(r, list)] as const));
  let current: ReleaseServices | null = null;
  for (const r of releases.values()) if (r.fence > 0 && (!current || r.fence > current.fence)) current = r;
  return { app, env, services, releases, current, maxFence: current?.fence ?? 0 };
}

/** The releases on warm standby (not current, with a standby time), the most recently replaced first. */
export function standbyOf(state: EnvState): ReleaseServices[] {
  return [...state.releases.values()].filter((r) => r !== state.current && r.standbyUntil !== null).sort((a, b) => b.fence - a.fence);
}

/** The label filter of app/env's services within the target's scope. */
export function envFilter(scope: Labels, app: string, env: string): Record<string, string> {
  return { ...scope, [LABEL.app]: app, [LABEL.env]: env };
}

export async function readEnv(engine: DockerEngine, scope: Labels, app: string, env: string): Promise<EnvState> {
  const services = await engine.listServices(envFilter(scope, app, env));
  // Docker's label filter is a match, not an exact one on every key: keep exact matches only.
  return envStateOf(
    app,
    env,
    services.filter((s) => labelOf(s, LABEL.app) === app && labelOf(s, LABEL.env) === env),
  );
}

/** Every app/env the target runs services for, read in one call. */
export async function readAll(engine: DockerEngine, scope: Labels): Promise<EnvState[]> {
  const services = await engine.listServices({ ...scope, [LABEL.app]: true });
  const groups = new Map<string, { app: string; env: string; list: Service[] }>();
  for (const s of services) {
    const app = labelOf(s, LABEL.app);
    const env = labelOf(s, LABEL.env);
    if (app === undefined || env === undefined) continue;
    const key = JSON.stringify([app, env]);
    const group = groups.get(key) ?? { app, env, list: [] };
    group.list.push(s);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => envStateOf(g.app, g.env, g.list));
}
