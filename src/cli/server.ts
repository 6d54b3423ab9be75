import type { Command } from 'commander';
import type { Cli } from './context.js';
import type { RunningService } from './capabilities.js';
import { dataDir, port } from './options.js';
import { onInterrupt } from './signals.js';
import { CliError } from './errors.js';

/** Runs a service until Ctrl-C / SIGTERM (or the run's abort signal), then closes it. */
export async function serveUntilInterrupted(
  cli: Cli,
  name: string,
  start: () => Promise<RunningService>,
  info: Record<string, unknown>,
  hints: (service: RunningService) => string[] = () => [],
): Promise<void> {
  const interrupt = onInterrupt(cli.io.signal);
  try {
    const service = await start();
    cli.out.line(`Rewind ${name} listening on ${service.url}`);
    cli.out.line(`Data: ${String(info.dataDir)}`);
    cli.out.show({ url: service.url, ...info }, hints(service));
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
    .option('--http-port <n>', 'for the agent it starts: one shared port routing APP.localhost and APP.ENV.localhost (default: REWIND_HTTP_PORT)')
    .option('--proxy <kind>', 'for the agent it starts: builtin (default) or nginx')
    .option(
      '--public-url <url>',
      'the URL people reach the server by, e.g. https://rewind.example.com (default: REWIND_PUBLIC_URL); its host name is accepted, others get 421',
    )
    .option(
      '--database <url>',
      'keep the store in PostgreSQL, e.g. postgres://rewind@db.internal/rewind (default: REWIND_DATABASE_URL, else SQLite in the data dir)',
    )
    .option('--insecure-no-auth', 'serve the API with no authentication at all: anyone who reaches the port can run commands as this user (for tests only)')
    .description('run the Rewind API server (and a local agent if none runs) until Ctrl-C')
    .action(
      async (
        o: { port: string; host: string; data?: string; httpPort?: string; proxy?: string; publicUrl?: string; database?: string; insecureNoAuth?: boolean },
        cmd: Command,
      ) => {
        cli.globals(cmd);
        if (o.proxy !== undefined && o.proxy !== 'builtin' && o.proxy !== 'nginx') throw new CliError(`--proxy must be builtin or nginx, got "${o.proxy}"`);
        const opts = {
          port: port(o.port),
          host: o.host,
          dataDir: dataDir(o.data, cli.io.env),
          ...(o.httpPort !== undefined ? { httpPort: port(o.httpPort) } : {}),
          ...(o.proxy ? { proxy: o.proxy as 'builtin' | 'nginx' } : {}),
          ...publicUrl(o.publicUrl ?? cli.io.env.REWIND_PUBLIC_URL),
          ...(o.insecureNoAuth ? { insecureNoAuth: true } : {}),
          ...databaseUrl(o.database ?? cli.io.env.REWIND_DATABASE_URL),
        };
        if (!['127.0.0.1', 'localhost', '::1'].includes(o.host) && !opts.publicUrl?.startsWith('https:')) {
          cli.warn(
            `warning: listening on ${o.host} over plain HTTP: tokens and the console's cookie cross the network in clear; put a TLS proxy in front and set --public-url https://…`,
          );
        }
        const { startServer } = await cli.capabilities.loadServer();
        await serveUntilInterrupted(cli, 'server', () => startServer(opts), { dataDir: opts.dataDir }, serverHints);
      },
    );
}

/** --database / REWIND_DATABASE_URL: a postgres:// URL, or a usage error that does not repeat a password. */
function databaseUrl(value: string | undefined): { databaseUrl?: string } {
  if (!value) return {};
  const usage = '--database (REWIND_DATABASE_URL) must be a PostgreSQL URL such as postgres://rewind@127.0.0.1:5432/rewind';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`${usage}; it is not a URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new CliError(`${usage}, not ${url.protocol}//…`);
  if (url.pathname.length <= 1) throw new CliError(`${usage}: it names no database (the /NAME at its end)`);
  return { databaseUrl: value };
}

/** --public-url / REWIND_PUBLIC_URL: an http(s) URL, or a usage error. */
function publicUrl(value: string | undefined): { publicUrl?: string } {
  if (!value) return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--public-url must be a URL such as https://rewind.example.com, not "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--public-url must start with http:// or https://, not "${value}"`);
  return { publicUrl: url.origin };
}

/** What a new user does next: open the console (logged in, once), deploy the example. */
export function serverHints(service: RunningService): string[] {
  const { url } = service;
  const host = url === 'http://127.0.0.1:7070' ? '' : `REWIND_HOST=${url} `;
  return [
    service.loginUrl
      ? `Console: ${service.loginUrl}  (logs this browser in once; "npx rewind console" prints a new link)`
      : `Console: ${url}/  (no authentication: --insecure-no-auth)`,
    `API:     ${url}/api (OpenAPI: ${url}/api/openapi.json)`,
    '',
    'Deploy the example from another shell, in this folder:',
    `  ${host}npx rewind apps create hello`,
    `  ${host}npx rewind deploy examples/hello -a hello`,
    `  ${host}npx rewind apps info hello        # the app's URL`,
    '',
    'Ctrl-C stops the server; the agent keeps your apps running.',
  ];
}
