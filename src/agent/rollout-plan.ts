/**
 * Where each component of a rollout gets its instances, decided from values only: instances that
 * already run exactly what the component describes are kept (same pids), an HTTP component on
 * warm standby is reused, anything else starts fresh. "Exactly" is componentKey: the files
 * (artifact sha256), command, static folder, port, health check and scale, and the app's config.
 * The build id and the release id are labels: a rollback copy or a rebuild of the same files
 * changes neither what runs nor the pids.
 */
import type { DesiredComponent, DesiredState } from '../protocol/agent-protocol.js';
import type { Instance } from './instance.js';
import { servesHttp } from './process-commands.js';

export type ComponentSource =
  /** Live instances that already run this: relabelled at the switch, never restarted. */
  | { readonly kind: 'keep'; readonly component: DesiredComponent; readonly instances: readonly Instance[] }
  /** Standby instances of release `from` that run this: a route swap. */
  | { readonly kind: 'warm'; readonly component: DesiredComponent; readonly instances: readonly Instance[]; readonly from: string }
  | { readonly kind: 'start'; readonly component: DesiredComponent };

/** What a process of component `c` runs, but for the config: its files, command, port, health and scale. */
export function processFields(c: DesiredComponent): unknown[] {
  return [c.artifact.sha256, c.command ?? null, c.static ?? null, c.port, c.health.path ?? null, c.health.timeoutMs, c.health.intervalMs, c.scale];
}

/** The config of a desired state in key order. */
export const sortedConfig = (desired: DesiredState) => Object.entries(desired.config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** What the processes of component `c` run in `desired`; equal keys mean interchangeable instances. */
export function componentKey(desired: DesiredState, c: DesiredComponent): string {
  return JSON.stringify([c.name, ...processFields(c), sortedConfig(desired)]);
}

const up = (i: Instance) => !i.stopping && i.handle !== null;

/**
 * The source of every component of `desired`, given the app's instances and its standby releases
 * (oldest first). Kept instances must all be up and healthy; only HTTP components are reused from
 * standby (workers are not kept there).
 */
export function planComponents(desired: DesiredState, instances: readonly Instance[], standbyReleases: readonly string[]): ComponentSource[] {
  return desired.components.map((component): ComponentSource => {
    if (component.scale === 0) return { kind: 'start', component };
    const key = componentKey(desired, component);
    const same = (i: Instance) => i.component.name === component.name && up(i) && componentKey(i.desired, i.component) === key;
    const live = instances.filter((i) => i.role === 'live' && i.component.name === component.name);
    if (live.length === component.scale && live.every((i) => same(i) && (i.state === 'healthy' || i.state === 'running')))
      return { kind: 'keep', component, instances: live };
    if (servesHttp(component)) {
      for (const release of [...standbyReleases].reverse()) {
        const members = instances.filter((i) => i.role === 'standby' && i.desired.release === release && i.component.name === component.name);
        if (members.length === component.scale && members.every((i) => same(i) && i.state === 'standby'))
          return { kind: 'warm', component, instances: members, from: release };
      }
    }
    return { kind: 'start', component };
  });
}
