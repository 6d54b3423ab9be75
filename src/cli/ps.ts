import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import type { ProcessView } from '../contract/index.js';
import type { Cli } from './context.js';
import { pipeText } from './follow.js';
import { bytes, relativeTime, table } from './format.js';
import { CliError, ExitStatus } from './errors.js';
import { positive } from './options.js';
import { onInterrupt } from './signals.js';

/** `ID  COMPONENT  RELEASE  STATUS  PID  PORT  STARTED  MEM`. */
/** With a NODE column when the target runs on several hosts (Swarm), so a rescheduled task shows where it went. */
export function psTable(ps: readonly ProcessView[], now: number = Date.now()): string[] {
  const nodes = ps.some((p) => p.node !== null);
  return table(
    ['ID', 'COMPONENT', 'RELEASE', 'STATUS', ...(nodes ? ['NODE'] : []), 'PID', 'PORT', 'STARTED', 'MEM'],
    ps.map((p) => [
      p.id,
      p.component,
      p.release,
      p.state,
      ...(nodes ? [p.node ?? ''] : []),
      p.pid === null ? '' : String(p.pid),
      p.port === null ? '' : String(p.port),
      relativeTime(p.startedAt, now),
      p.rss === null ? '' : bytes(p.rss),
    ]),
  );
}

/** The shell's exit status for a command killed by `signal` (128 + its number), else 1. */
function signalStatus(signal: string): number {
  const n = (osConstants.signals as Record<string, number | undefined>)[signal];
  return n === undefined ? 1 : 128 + n;
}

/** `rewind ps`, `rewind logs [-f] [--lines N]`, `rewind exec [-c COMPONENT] -- COMMAND…`. */
export function registerPs(program: Command, cli: Cli): void {
  registerPsList(program, cli);
  registerLogs(program, cli);
  registerExec(program, cli);
}

/** `rewind ps`: the processes of an environment. */
function registerPsList(program: Command, cli: Cli): void {
  program
    .command('ps')
    .description("list an environment's processes")
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const ps = await cli.client.listProcesses(cli.app(g), g.env);
      cli.out.show(ps, psTable(ps));
    });
}

/** `rewind logs [-f] [--lines N]`: past lines, or a followed stream that Ctrl-C ends with exit 0. */
function registerLogs(program: Command, cli: Cli): void {
  program
    .command('logs')
    .option('-f, --follow', 'keep streaming new lines until Ctrl-C')
    .option('--lines <n>', 'how many past lines', '100')
    .description("print an environment's logs (--json: an array of lines, or one JSON string per line with -f)")
    .action(async (o: { follow?: boolean; lines: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const follow = Boolean(o.follow);
      const lines = positive(o.lines, '--lines', true);
      // Ctrl-C ends a followed stream normally (exit 0), like `heroku logs -t`.
      const interrupt = follow ? onInterrupt(cli.io.signal) : undefined;
      try {
        const stream = await cli.client.logs(app, { env: g.env, follow, lines }, interrupt?.signal);
        if (!g.json) {
          await pipeText(cli, stream, { signal: interrupt?.signal });
          return;
        }
        let partial = '';
        const all: string[] = [];
        const onText = (text: string) => {
          const parts = (partial + text).split('\n');
          partial = parts.pop() ?? '';
          if (follow) for (const p of parts) cli.io.stdout.write(`${JSON.stringify(p)}\n`);
          else all.push(...parts);
        };
        await pipeText(cli, stream, { signal: interrupt?.signal, onText });
        if (partial) onText('\n');
        if (!follow) cli.out.result(all);
      } catch (err) {
        if (!interrupt?.signal.aborted) throw err;
      } finally {
        interrupt?.dispose();
      }
    });
}

/** `rewind exec [-c COMPONENT] -- COMMAND…`: a one-off command on the server; exits with its status. */
function registerExec(program: Command, cli: Cli): void {
  program
    .command('exec')
    .argument('<command...>', 'the command; put -- before it when it has options of its own')
    .option('-c, --component <name>', 'whose slug and config (default: web, else the first component)')
    .description(
      "run a one-off command in the active release (its files, config and $REWIND_* variables); exits with the command's status (--json: its events, one JSON per line)",
    )
    .showHelpAfterError('(put -- before a command that has options of its own: rewind exec -a APP -- ls -la)')
    .addHelpText('after', "\nExamples:\n  rewind exec -a shop -- node migrate.js --to latest\n  rewind exec -a shop -c worker 'echo $DATABASE_URL'")
    .action(async (words: string[], o: { component?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      // Ctrl-C stops the command on the server too (the request goes away), like `heroku run`.
      const interrupt = onInterrupt(cli.io.signal);
      let exit: { code: number | null; signal: string | null } | null = null;
      try {
        const events = await cli.client.exec(
          app,
          { env: g.env, command: words.join(' '), ...(o.component ? { component: o.component } : {}) },
          interrupt.signal,
        );
        for await (const event of events) {
          if (g.json) cli.io.stdout.write(`${JSON.stringify(event)}\n`);
          else if (event.type === 'output') (event.stream === 'stdout' ? cli.io.stdout : cli.io.stderr).write(event.text);
          if (event.type === 'exit') exit = event;
        }
      } catch (err) {
        if (!interrupt.signal.aborted) throw err;
      } finally {
        interrupt.dispose();
      }
      if (interrupt.signal.aborted) throw new ExitStatus(130);
      if (!exit) throw new CliError('the connection to the server broke before the command ended; see "rewind logs" for how it ended');
      const status = exit.code ?? (exit.signal ? signalStatus(exit.signal) : 1);
      if (status !== 0) throw new ExitStatus(status);
    });
}
