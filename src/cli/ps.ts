import type { Command } from 'commander';
import type { ProcessView } from '../api/types.js';
import type { Cli } from './context.js';
import { pipeText } from './follow.js';
import { bytes, relativeTime, table } from './format.js';
import { positive } from './options.js';
import { onInterrupt } from './signals.js';

/** `ID  COMPONENT  RELEASE  STATUS  PID  PORT  STARTED  MEM`. */
export function psTable(ps: readonly ProcessView[], now: number = Date.now()): string[] {
  return table(
    ['ID', 'COMPONENT', 'RELEASE', 'STATUS', 'PID', 'PORT', 'STARTED', 'MEM'],
    ps.map((p) => [
      p.id,
      p.component,
      p.release,
      p.state,
      p.pid === null ? '' : String(p.pid),
      p.port === null ? '' : String(p.port),
      relativeTime(p.startedAt, now),
      p.rss === null ? '' : bytes(p.rss),
    ]),
  );
}

/** `rewind ps`, `rewind logs [-f] [--lines N]`. */
export function registerPs(program: Command, cli: Cli): void {
  program
    .command('ps')
    .description("list an environment's processes")
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const ps = await cli.client.listProcesses(cli.app(g), g.env);
      cli.out.lines(psTable(ps));
      cli.out.result(ps);
    });

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
