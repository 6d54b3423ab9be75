import { ensureLocalAgent, type EnsureLocalAgentOptions } from './local-agent-process.js';
import { LocalTarget } from './local-target.js';
import type { EdgeAgent } from './swarm/swarm-edges.js';
import { SwarmTarget } from './swarm/swarm-target.js';
import type { Target } from './target.js';

/** A Swarm target as configured (a row of `rewind targets`). */
export interface SwarmTargetConfig {
  readonly kind: 'swarm';
  readonly dockerHost: string;
  readonly edges?: readonly EdgeAgent[];
}

/** Where environments run: `local`, the agent on this host (started, or reused when it answers), or a swarm. */
export type TargetConfig = { readonly kind: 'local'; readonly agent: EnsureLocalAgentOptions } | SwarmTargetConfig;

export interface CreatedTarget {
  readonly target: Target;
  /** Where the target's agent answers now (for server.json and the log); null for a swarm. */
  agentUrl(): string | null;
}

/** A Swarm target: it connects on its first call, so making one is synchronous (targets are made lazily, per environment). */
export function createSwarmTarget(config: SwarmTargetConfig): Target {
  return new SwarmTarget({ docker: config.dockerHost, ...(config.edges?.length ? { edges: config.edges } : {}) });
}

/** Picks the adapter for `config` and connects it. */
export async function createTarget(config: TargetConfig): Promise<CreatedTarget> {
  switch (config.kind) {
    case 'local': {
      let agent = await ensureLocalAgent(config.agent);
      // When the agent has died, the next call finds (or starts) it again.
      const target = new LocalTarget(async () => (agent = await ensureLocalAgent(config.agent)));
      return { target, agentUrl: () => agent.url };
    }
    case 'swarm':
      return { target: createSwarmTarget(config), agentUrl: () => null };
  }
}
