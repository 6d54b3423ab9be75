/**
 * The `rewind` program (bin/rewind.js runs it): the composition root of the CLI. It lends the CLI
 * what lives in other folders (the server, the agent, source packing, git) as lazy loaders, so
 * that `rewind releases` loads none of them (nor tar).
 */
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliCapabilities } from '../cli/capabilities.js';
import type { CliIO } from '../cli/context.js';
import { version } from '../cli/version.js';

export type { CliIO } from '../cli/context.js';

export const capabilities: CliCapabilities = {
  loadSourcePack: () => import('../artifacts/source-pack.js'),
  loadGitDescribe: () => import('../builder/git-describe.js'),
  loadServer: () => import('./server.js'),
  loadAgent: () => import('../agent/agent-main.js'),
  loadStoreCopy: () => import('../store/copy.js'),
};

/** Runs `rewind ARGV` in-process and resolves to its exit code; never throws. */
export const run = async (argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> => (await import('../cli/main.js')).run(argv, capabilities, io);

/** True when this module is the program: `node dist/main/rewind.js` or `bin/rewind.js` (which imports it). */
function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    const real = realpathSync(entry);
    const self = fileURLToPath(import.meta.url);
    return real === self || real === resolve(dirname(self), '../../bin/rewind.js');
  } catch {
    return false;
  }
}

if (isMain()) {
  // `rewind releases | head`: the reader went away; stop quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const argv = process.argv.slice(2);
  // `rewind --version` loads nothing else: the command tree costs more than Node's own start.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) process.stdout.write(`${version()}\n`);
  else process.exitCode = await run(argv);
}
