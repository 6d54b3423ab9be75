/**
 * The `rewind` command: builds the commander program, runs it, and is the one place where a
 * failure becomes one `error: …` line on stderr and a non-zero exit code. The program's entry is
 * src/main/rewind.ts, which lends it the server, the agent, source packing and git.
 */
import { Command, CommanderError } from 'commander';
import { registerAgent } from './agent.js';
import { registerApps } from './apps.js';
import { registerBuilds } from './builds.js';
import type { CliCapabilities } from './capabilities.js';
import { registerConsole } from './console.js';
import { Cli, processIO } from './context.js';
import type { CliIO } from './context.js';
import { registerEnv } from './env.js';
import { registerEnvs } from './envs.js';
import { ExitStatus, describeFailure } from './errors.js';
import { registerPipelines } from './pipelines.js';
import { registerTemplates } from './templates.js';
import { registerTargets } from './targets.js';
import { version } from './version.js';
import { registerPs } from './ps.js';
import { registerReleases } from './releases.js';
import { registerServer } from './server.js';
import { registerStore } from './store.js';

export type { CliIO } from './context.js';

/** The whole command tree; global options are inherited by every subcommand. */
export function buildProgram(cli: Cli): Command {
  const program = new Command('rewind')
    .description('Rewind: build, release, deploy and roll back apps')
    .version(version())
    .configureHelp({ showGlobalOptions: true })
    .option('-a, --app <app>', 'app name (default: REWIND_APP)')
    .option('-e, --env <env>', 'environment', 'production')
    .option('--json', 'machine-readable JSON on stdout, nothing else')
    .option('--verbose', 'print stack traces of errors')
    .addHelpText('after', '\nEnvironment: REWIND_HOST (default http://127.0.0.1:7070), REWIND_TOKEN, REWIND_APP, REWIND_DATA, NO_COLOR')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => cli.io.stdout.write(s),
      writeErr: (s) => cli.io.stderr.write(s),
      outputError: (s, write) => write(cli.errorLine(s)),
    });
  registerApps(program, cli);
  registerBuilds(program, cli);
  registerReleases(program, cli);
  registerEnvs(program, cli);
  registerEnv(program, cli);
  registerPs(program, cli);
  registerPipelines(program, cli);
  registerTemplates(program, cli);
  registerTargets(program, cli);
  registerServer(program, cli);
  registerStore(program, cli);
  registerConsole(program, cli);
  registerAgent(program, cli);
  return program;
}

/** Runs `rewind ARGV` in-process and resolves to its exit code; never throws. `capabilities`: see src/main/rewind.ts. */
export async function run(argv: readonly string[], capabilities: CliCapabilities, io: Partial<CliIO> = {}): Promise<number> {
  const defaults = processIO();
  // A caller that captures the output (a test) answers questions only through its own stdin.
  const captured = Boolean(io.stdout || io.stderr);
  const cli = new Cli(
    {
      ...defaults,
      isTTY: io.isTTY ?? (captured ? false : defaults.isTTY),
      stdin: captured ? undefined : defaults.stdin,
      ...withoutUndefined(io),
    },
    capabilities,
  );
  try {
    await buildProgram(cli).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    cli.out.close();
    // Commander has already printed its own `error: …` (or the help / version).
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ExitStatus) return err.exitCode;
    const failure = describeFailure(err, argv.includes('--verbose'));
    cli.io.stderr.write(`${cli.errorLine(failure.text)}\n`);
    return failure.exitCode;
  } finally {
    await cli.close().catch(() => {});
  }
}

function withoutUndefined(io: Partial<CliIO>): Partial<CliIO> {
  return Object.fromEntries(Object.entries(io).filter(([, v]) => v !== undefined)) as Partial<CliIO>;
}
