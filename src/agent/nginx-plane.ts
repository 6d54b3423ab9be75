/** The nginx data plane (`rewind agent --proxy nginx`): being written; refused until then. */
import type { AgentLogger } from './app-runtime.js';
import type { DataPlane } from './data-plane.js';

export async function startNginxPlane(_opts: { dataDir: string; logger: AgentLogger; bin?: string }): Promise<DataPlane> {
  throw new Error('the nginx data plane is not available yet; run the agent without --proxy nginx');
}
