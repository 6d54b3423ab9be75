import { join } from 'node:path';
import type { Command } from 'commander';
import type { Cli } from './context.js';
import { loadAgentMain } from './deps.js';
import { dataDir, port } from './options.js';
import { serveUntilInterrupted } from './server.js';

/** `rewind agent [--port N] [--data DIR]`: the data plane on its own (the server starts one when none runs). */
export function registerAgent(program: Command, cli: Cli): void {
  program
    .command('agent')
    .option('--port <n>', 'port of the agent API (0: a random free port, written to DATA/agent/agent.json)', '0')
    .option('--data <dir>', 'data directory (default: REWIND_DATA, else ~/.rewind); the agent uses DATA/agent')
    .description('run the Rewind agent (supervisor and proxy) until Ctrl-C')
    .action(async (o: { port: string; data?: string }, cmd: Command) => {
      cli.globals(cmd);
      const opts = { dataDir: join(dataDir(o.data, cli.io.env), 'agent'), port: port(o.port) };
      const { runAgent } = await loadAgentMain();
      await serveUntilInterrupted(cli, 'agent', () => runAgent(opts), { dataDir: opts.dataDir });
    });
}
