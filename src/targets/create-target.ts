import { ensureLocalAgent, type EnsureLocalAgentOptions } from './local-agent-process.js';
import { LocalTarget } from './local-target.js';
import type { Target } from './target.js';

/** Where environments run: today only `local`, the agent on this host (started, or reused when it answers). */
export type TargetConfig = { readonly kind: 'local'; readonly agent: EnsureLocalAgentOptions };

export interface CreatedTarget {
  readonly target: Target;
  /** Where the target's agent answers now (for server.json and the log). */
  agentUrl(): string;
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
  }
}
