import type { Command } from 'commander';
import type { Cli } from './context.js';

/** `rewind console`: a one-time link that opens the console logged in (the token never enters the browser's history). */
export function registerConsole(program: Command, cli: Cli): void {
  program
    .command('console')
    .description('print a one-time link that logs a browser in to the console')
    .action(async (_o: unknown, cmd: Command) => {
      cli.globals(cmd);
      const link = await cli.client.loginLink();
      cli.out.line(link.url);
      cli.out.line(`(opens the console once, until ${link.expiresAt}; run "rewind console" again for another browser)`);
      cli.out.result(link);
    });
}
