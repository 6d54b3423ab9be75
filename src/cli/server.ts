import type { Command } from 'commander';
import type { Cli } from './context.js';
import type { RunningService } from './deps.js';
import { loadServerMain } from './deps.js';
import { dataDir, port } from './options.js';
import { onInterrupt } from './signals.js';

/** Runs a service until Ctrl-C / SIGTERM (or the run's abort signal), then closes it. */
export async function serveUntilInterrupted(cli: Cli, name: string, start: () => Promise<RunningService>, info: Record<string, unknown>): Promise<void> {
  const interrupt = onInterrupt(cli.io.signal);
  try {
    const service = await start();
    cli.out.line(`Rewind ${name} listening on ${service.url}`);
    cli.out.line(`Data: ${String(info.dataDir)}`);
    cli.out.result({ url: service.url, ...info });
    await interrupt.wait;
    cli.out.start(`Stopping ${name}`);
    await service.close();
    cli.out.done();
  } finally {
    interrupt.dispose();
  }
}

/** `rewind server [--port N] [--host H] [--data DIR]`. */
export function registerServer(program: Command, cli: Cli): void {
  program
    .command('server')
    .option('--port <n>', 'port to listen on (0: a random free port)', '7070')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <dir>', 'data directory (default: REWIND_DATA, else ~/.rewind)')
    .description('run the Rewind API server (and a local agent if none runs) until Ctrl-C')
    .action(async (o: { port: string; host: string; data?: string }, cmd: Command) => {
      cli.globals(cmd);
      const opts = { port: port(o.port), host: o.host, dataDir: dataDir(o.data, cli.io.env) };
      const { startServer } = await loadServerMain();
      await serveUntilInterrupted(cli, 'server', () => startServer(opts), { dataDir: opts.dataDir });
    });
}
