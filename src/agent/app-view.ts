/** What one app runtime shows: its observed state (GET /apps) and its record in the state file. */
import type { ObservedApp } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import { observeInstance, persistInstance } from './instance.js';
import type { PersistedApp } from './state-file.js';

/** What the observed state and the state file both say of an app runtime. */
function identity(runtime: AppRuntime) {
  return { app: runtime.app, env: runtime.env, release: runtime.release, proxyPort: runtime.proxy.port || runtime.wantedProxyPort };
}

export function observeApp(runtime: AppRuntime): ObservedApp {
  const { routes, undeployed } = runtime.routing.ports();
  const watch = runtime.watch;
  return {
    ...identity(runtime),
    ...(runtime.rollout ? { rollout: { ...runtime.rollout } } : {}),
    instances: runtime.instances.map((i) => observeInstance(i, i.role === 'standby' ? runtime.standby.get(i.desired.release)?.until : undefined)),
    ...(Object.keys(routes).length ? { routes } : {}),
    ...(Object.keys(undeployed).length ? { undeployedRoutes: undeployed } : {}),
    ...(watch ? { watch: { release: watch.release, previous: watch.previous.release, until: new Date(watch.until).toISOString() } } : {}),
    ...(runtime.autoRollbacks.length ? { autoRollbacks: [...runtime.autoRollbacks] } : {}),
  };
}

export function persistApp(runtime: AppRuntime): PersistedApp {
  const { routes, undeployed } = runtime.routing.ports();
  const watch = runtime.watch;
  return {
    ...identity(runtime),
    desired: runtime.desired,
    instances: runtime.instances.map((i) => persistInstance(i, runtime.log.offsetOf(i.id))),
    previous: runtime.previous,
    standby: runtime.standby.sets.map((s) => ({ desired: s.desired, until: new Date(s.until).toISOString() })),
    routes,
    undeployedRoutes: undeployed,
    watch: watch ? { release: watch.release, until: new Date(watch.until).toISOString(), crashes: watch.crashes } : null,
    autoRollbacks: runtime.autoRollbacks,
  };
}
