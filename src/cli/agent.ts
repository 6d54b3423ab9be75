import { join } from 'node:path';
import type { Command } from 'commander';
import { RewindError } from '../domain/errors.js';
import type { Cli } from './context.js';
import { loadAgentMain } from './deps.js';
import { dataDir, port } from './options.js';
import { serveUntilInterrupted } from './server.js';

/** `rewind agent [--port N] [--data DIR] [--http-port N] [--proxy builtin|nginx]`: the data plane on its own (the server starts one when none runs). */
export function registerAgent(program: Command, cli: Cli): void {
  program
    .command('agent')
    .option('--port <n>', 'port of the agent API (0: a random free port, written to DATA/agent/agent.json)', '0')
    .option('--data <dir>', 'data directory (default: REWIND_DATA, else ~/.rewind); the agent uses DATA/agent')
    .option('--http-port <n>', 'one more port for every app, routed by host name: APP.localhost (production), APP.ENV.localhost (default: REWIND_HTTP_PORT, else none)')
    .option('--proxy <kind>', 'who serves the app ports: builtin, or nginx (the agent runs its own nginx master)', 'builtin')
    .description('run the Rewind agent (supervisor and proxy) until Ctrl-C')
    .action(async (o: { port: string; data?: string; httpPort?: string; proxy: string }, cmd: Command) => {
      cli.globals(cmd);
      if (o.proxy !== 'builtin' && o.proxy !== 'nginx') throw new RewindError('INVALID_INPUT', `--proxy must be builtin or nginx, not ${o.proxy}`);
      const shared = o.httpPort ?? cli.io.env.REWIND_HTTP_PORT;
      const sharedPort = shared === undefined || shared === '' ? undefined : Number(shared);
      if (sharedPort !== undefined && !(Number.isInteger(sharedPort) && sharedPort >= 0 && sharedPort <= 65535)) {
        throw new RewindError('INVALID_INPUT', `--http-port (or REWIND_HTTP_PORT) must be a port from 0 to 65535, not ${shared}`);
      }
      const opts = { dataDir: join(dataDir(o.data, cli.io.env), 'agent'), port: port(o.port), proxy: o.proxy, ...(sharedPort !== undefined ? { sharedPort } : {}) } as const;
      const { runAgent } = await loadAgentMain();
      await serveUntilInterrupted(cli, 'agent', () => runAgent(opts), { dataDir: opts.dataDir });
    });
}
