/** What `rewind apps` shows of an app: its environments with health, URL and component URLs. */
import type { AppSummary, EnvironmentRow, EnvironmentSummary } from '../domain/environment.js';
import { hasKey } from '../domain/records.js';
import type { ObservedApp } from '../protocol/agent-protocol.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';

/** What the summaries read: the store, and the host the agent's proxies listen on (for URLs). */
export interface AppViewSources {
  readonly store: Store;
  readonly proxyHost: string;
}

/** What every target observes, or null when one of them cannot be reached (health is then "unknown"). */
export async function observeAll(targets: TargetResolver): Promise<readonly ObservedApp[] | null> {
  try {
    return (await Promise.all(targets.all().map((t) => t.observeAll()))).flat();
  } catch {
    return null;
  }
}

export async function appSummary(sources: AppViewSources, name: string, createdAt: string, observed: readonly ObservedApp[] | null): Promise<AppSummary> {
  const envs = await sources.store.apps.environments(name);
  const views: EnvironmentSummary[] = [];
  for (const e of envs) {
    const seen = observed?.find((obs) => obs.app === name && obs.env === e.name) ?? null;
    views.push(await envSummary(sources, e, seen, observed === null));
  }
  return { name, createdAt, environments: views };
}

async function envSummary(sources: AppViewSources, e: EnvironmentRow, observed: ObservedApp | null, unreachable: boolean): Promise<EnvironmentSummary> {
  const { store, proxyHost } = sources;
  const live = await store.deployments.live(e.app, e.name);
  const health = unreachable ? 'unknown' : live ? 'deploying' : servingHealth(observed);
  const ports = await listedComponentPorts(store, e);
  return {
    app: e.app,
    name: e.name,
    position: e.position,
    activeRelease: e.activeRelease,
    proxyPort: e.proxyPort,
    url: `http://${proxyHost}:${e.proxyPort}`,
    health,
    components: Object.fromEntries(Object.entries(ports).map(([c, p]) => [c, `http://${proxyHost}:${p}`])),
    target: e.target,
    createdAt: e.createdAt,
  };
}

/** "healthy" when every instance of the observed release is healthy or running; "empty" when none serves. */
function servingHealth(observed: ObservedApp | null): string {
  if (!observed?.release) return 'empty';
  const serving = observed.instances.filter((i) => i.release === observed.release);
  if (serving.length === 0) return 'empty';
  return serving.every((i) => i.state === 'healthy' || i.state === 'running') ? 'healthy' : 'unhealthy';
}

/**
 * A removed component keeps its port (a rollback may bring it back), but only the active
 * release's HTTP components (other than the one on the environment's URL) are listed.
 */
async function listedComponentPorts(store: Store, e: EnvironmentRow): Promise<Record<string, number>> {
  const ports = await store.apps.componentPorts(e.app, e.name);
  const active = e.activeRelease ? await store.releases.get(e.app, e.activeRelease) : undefined;
  const http = Object.values(active?.manifest?.components ?? {}).filter((c) => c.port && hasKey(active!.builds, c.name));
  const main = http.find((c) => c.name === 'web') ?? http[0];
  const serving = new Set(http.filter((c) => c !== main).map((c) => c.name));
  for (const c of Object.keys(ports)) if (!serving.has(c)) delete ports[c];
  return ports;
}
