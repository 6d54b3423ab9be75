/**
 * The Swarm service of one release's component (decision 0009): the image as pinned, config as
 * environment variables, scale as replicas, the HTTP port published in host mode without a fixed
 * host port (Docker picks one per task; the routing mesh needs IPVS, which these kernels lack), DNS
 * round robin instead of a virtual IP, restarted on failure. Pure.
 */
import type { DesiredComponent, DesiredState } from '../../protocol/agent-protocol.js';
import type { Labels, ServiceSpec } from './docker-types.js';
import { containerPortOf, serviceLabels, serviceName } from './swarm-names.js';

const NS_PER_MS = 1_000_000;

/** Environment variables in a stable order; an HTTP component also gets $PORT (its container port). */
export function envOf(desired: DesiredState, c: DesiredComponent): string[] {
  const env = { ...desired.config, ...(c.port ? { PORT: String(containerPortOf(desired)) } : {}) };
  return Object.entries(env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
}

export function serviceSpecOf(desired: DesiredState, c: DesiredComponent, scope: Labels): ServiceSpec {
  const labels = serviceLabels(desired, c, scope);
  const port = c.port ? containerPortOf(desired) : null;
  return {
    Name: serviceName(desired.app, desired.env, desired.release, c.name),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: c.image!,
        Labels: labels,
        Env: envOf(desired, c),
        // In-flight requests may finish within the drain time once a task is told to stop.
        StopGracePeriod: Math.max(1000, desired.drainTimeoutMs) * NS_PER_MS,
      },
      RestartPolicy: { Condition: 'on-failure', Delay: 1000 * NS_PER_MS, MaxAttempts: 0 },
    },
    Mode: { Replicated: { Replicas: c.scale } },
    EndpointSpec: port === null ? { Mode: 'dnsrr' } : { Mode: 'dnsrr', Ports: [{ TargetPort: port, PublishMode: 'host', Protocol: 'tcp' }] },
  };
}
