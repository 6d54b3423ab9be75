import type { Command } from 'commander';
import { redactedUrl } from '../domain/urls.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { table } from './format.js';

/** `rewind store copy --from sqlite:PATH --to postgres://…`: move an installation to another store. */
export function registerStore(program: Command, cli: Cli): void {
  const store = program.command('store').description("Rewind's own records: copy them to another store");
  store
    .command('copy')
    .requiredOption('--from <store>', 'sqlite:DATA_DIR (or its rewind.db), or postgres://…')
    .requiredOption('--to <store>', 'an empty store: postgres://USER@HOST:5432/DB (or sqlite:DIR)')
    .description('copy every app, release, build, deployment, pipeline run, audit entry and template into an empty store, and check it table by table')
    .action(async (o: { from: string; to: string }, cmd: Command) => {
      cli.globals(cmd);
      for (const [flag, url] of [
        ['--from', o.from],
        ['--to', o.to],
      ]) {
        if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url))
          throw new CliError(`${flag} must be sqlite:PATH or postgres://USER@HOST:PORT/DB, not "${redactedUrl(url)}"`);
      }
      cli.out.start(`Copying ${redactedUrl(o.from)} to ${redactedUrl(o.to)}`);
      const { copyStores } = await cli.capabilities.loadStoreCopy();
      const tables = await copyStores(o.from, o.to);
      cli.out.done();
      const rows = tables.reduce((n, t) => n + t.rows, 0);
      cli.out.show({ tables }, [
        ...table(
          ['TABLE', 'ROWS'],
          tables.map((t) => [t.table, String(t.rows)]),
        ),
        `OK: ${rows} rows in ${tables.length} tables, each one's count and digest the same in both stores`,
        'Start the server on it with the same data dir (artifacts and tokens stay there): rewind server --database URL',
      ]);
    });
}
