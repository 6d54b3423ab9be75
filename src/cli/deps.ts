/**
 * Modules of other layers the CLI uses, loaded lazily so that `rewind releases` does not load
 * the server, the builder or tar.
 */

export interface RunningService {
  readonly url: string;
  /** A one-time console login link (the server, unless it runs without authentication). */
  readonly loginUrl?: string | null;
  close(): Promise<void>;
}

export const loadSourcePack = () => import('../artifacts/source-pack.js');
export const loadGitDescribe = () => import('../builder/git-describe.js');
export const loadServerMain = () => import('../api/server-main.js');

/** `src/agent/agent-main.ts` (being written): typed here by the agreed signature until it exists. */
export interface AgentMainModule {
  runAgent(opts: { dataDir: string; port: number }): Promise<RunningService>;
}
const agentMain = '../agent/agent-main.js';
export const loadAgentMain = async () => (await import(agentMain)) as AgentMainModule;
