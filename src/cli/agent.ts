import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { RewindError } from '../domain/errors.js';
import type { Cli } from './context.js';
import { dataDir, port } from './options.js';
import { serveUntilInterrupted } from './server.js';

/** `LO-HI` → a port range, or an Error saying what is wrong. */
export function parsePortRange(text: string): { lo: number; hi: number } | Error {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const [lo, hi] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(lo >= 1 && hi <= 65535 && lo <= hi)) return new Error(`a port range is LO-HI with 1 <= LO <= HI <= 65535, not "${text}"`);
  return { lo, hi };
}

/**
 * `rewind agent [--port N] [--data DIR] [--http-port N] [--proxy builtin|nginx] [--port-range LO-HI]
 * [--artifacts DIR] [--max-artifact-mb N]`: the data plane on its own (the server starts one when
 * none runs). Callers need the token in DATA/agent/agent.token (or REWIND_AGENT_TOKEN).
 */
export function registerAgent(program: Command, cli: Cli): void {
  program
    .command('agent')
    .option('--port <n>', 'port of the agent API (0: a random free port, written to DATA/agent/agent.json)', '0')
    .option('--data <dir>', 'data directory (default: REWIND_DATA, else ~/.rewind); the agent uses DATA/agent')
    .option(
      '--http-port <n>',
      'one more port for every app, routed by host name: APP.localhost (production), APP.ENV.localhost (default: REWIND_HTTP_PORT, else none)',
    )
    .option('--proxy <kind>', 'who serves the app ports: builtin, or nginx (the agent runs its own nginx master)', 'builtin')
    .option('--port-range <lo-hi>', 'the only ports a deployment may give an app (default: REWIND_AGENT_PORT_RANGE, else 1024-65535)')
    .option('--artifacts <dir>', "the only folder slugs are read from (default: DATA/artifacts, the server's artifact store)")
    .option('--max-artifact-mb <n>', 'the largest slug the agent reads, in MiB', '4096')
    .description('run the Rewind agent (supervisor and proxy) until Ctrl-C; callers need the token in DATA/agent/agent.token')
    .action(
      async (
        o: { port: string; data?: string; httpPort?: string; proxy: string; portRange?: string; artifacts?: string; maxArtifactMb: string },
        cmd: Command,
      ) => {
        cli.globals(cmd);
        if (o.proxy !== 'builtin' && o.proxy !== 'nginx') throw new RewindError('INVALID_PROXY', `--proxy must be builtin or nginx, not ${o.proxy}`);
        const shared = o.httpPort ?? cli.io.env.REWIND_HTTP_PORT;
        const sharedPort = shared === undefined || shared === '' ? undefined : Number(shared);
        if (sharedPort !== undefined && !(Number.isInteger(sharedPort) && sharedPort >= 0 && sharedPort <= 65535)) {
          throw new RewindError('INVALID_PORT', `--http-port (or REWIND_HTTP_PORT) must be a port from 0 to 65535, not ${shared}`);
        }
        const maxArtifactMb = Number(o.maxArtifactMb);
        if (!(Number.isInteger(maxArtifactMb) && maxArtifactMb >= 1))
          throw new RewindError('INVALID_NUMBER', `--max-artifact-mb must be a whole number of MiB, at least 1, not ${o.maxArtifactMb}`);
        const { runAgent } = await cli.capabilities.loadAgent();
        const rangeText = o.portRange ?? cli.io.env.REWIND_AGENT_PORT_RANGE;
        const portRange = rangeText === undefined || rangeText === '' ? undefined : parsePortRange(rangeText);
        if (portRange instanceof Error) throw new RewindError('INVALID_PORT_RANGE', `--port-range (or REWIND_AGENT_PORT_RANGE): ${portRange.message}`);
        const data = dataDir(o.data, cli.io.env);
        const opts = {
          dataDir: join(data, 'agent'),
          port: port(o.port),
          proxy: o.proxy,
          artifactRoot: o.artifacts ? resolve(o.artifacts) : join(data, 'artifacts'),
          maxArtifactBytes: maxArtifactMb * 1024 * 1024,
          ...(portRange ? { portRange } : {}),
          ...(sharedPort !== undefined ? { sharedPort } : {}),
        } as const;
        await serveUntilInterrupted(cli, 'agent', () => runAgent(opts), { dataDir: opts.dataDir });
      },
    );
}
