import type { Command } from 'commander';
import type { EnvironmentView } from '../contract/index.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { keyValues, table } from './format.js';

/** `api: http://…` lines for an environment's HTTP components other than the one at its URL. */
export function componentUrls(e: EnvironmentView): string[] {
  // An older server sends no `components`.
  const urls = e.components ?? {};
  return Object.keys(urls)
    .sort()
    .map((c) => `${c}: ${urls[c]}`);
}

/**
 * `NAME  RELEASE  HEALTH  URL` in the environments' order; each other HTTP component's URL
 * follows on its own line under URL. HEALTH `empty` means the environment runs nothing.
 */
export function envsTable(envs: readonly EnvironmentView[]): string[] {
  const rows: string[][] = [];
  for (const e of [...envs].sort((a, b) => a.position - b.position)) {
    rows.push([e.name, e.activeRelease ?? '', e.health, e.url]);
    for (const line of componentUrls(e)) rows.push(['', '', '', line]);
  }
  return table(['NAME', 'RELEASE', 'HEALTH', 'URL'], rows);
}

/** `rewind envs`, `envs create NAME [--after ENV | --before ENV] [--target NAME]`, `envs delete NAME [--force]`. */
export function registerEnvs(program: Command, cli: Cli): void {
  const envs = program
    .command('envs')
    .description("list an app's environments in order: active release, health, URLs")
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listEnvironments(cli.app(g));
      cli.out.show(list, envsTable(list));
    });

  envs
    .command('create')
    .argument('<name>', 'environment name, e.g. test')
    .option('--after <env>', 'place it after this environment (default: last)')
    .option('--before <env>', 'place it before this environment (e.g. test before production)')
    .option('--target <name>', 'where it runs: local (the default) or a target of "rewind targets"')
    .description('create an environment with its own config, releases and URL')
    .action(async (name: string, o: { after?: string; before?: string; target?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      cli.out.start(`Creating ${name}`);
      const env = await cli.client.createEnvironment(app, name, { after: o.after, before: o.before, target: o.target });
      cli.out.done();
      cli.out.line(`URL: ${env.url}`);
      if (env.target !== undefined && env.target !== 'local') cli.out.line(`Target: ${env.target}`);
      cli.out.result(env);
    });

  envs
    .command('delete')
    .argument('<name>', 'environment name')
    .option('--force', 'stop what it runs and delete it anyway')
    .description('delete an environment with its releases (refused while it runs something, unless --force)')
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      cli.out.start(`Deleting ${name}`);
      await cli.client.deleteEnvironment(app, name, Boolean(o.force));
      cli.out.done();
      cli.out.result({ deleted: name });
    });

  envs
    .command('settings')
    .argument('<name>', 'environment name')
    .option('--standby-minutes <n>', 'how long the previous release stays warm after a switch (0: off)')
    .option('--standby-count <n>', 'how many previous releases stay warm')
    .option('--auto-rollback-seconds <n>', 'how long after a switch an unhealthy release is rolled back by itself (0: never)')
    .option('--drain-seconds <n>', 'how long old instances may finish in-flight requests')
    .option('--reset <key>', 'back to the server default (repeatable: standbyMinutes, …)', (v: string, p: string[] = []) => [...p, v])
    .description("show or change an environment's data-plane settings (they apply from its next deployment)")
    .action(async (name: string, o: Record<string, string | string[] | undefined>, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const keys = { standbyMinutes: o.standbyMinutes, standbyCount: o.standbyCount, autoRollbackSeconds: o.autoRollbackSeconds, drainSeconds: o.drainSeconds };
      const patch: Record<string, number | null> = {};
      for (const [k, v] of Object.entries(keys)) {
        if (v === undefined) continue;
        const n = Number(v);
        if (!Number.isFinite(n)) throw new CliError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a number, got "${v}"`);
        patch[k] = n;
      }
      for (const k of (o.reset as string[] | undefined) ?? []) patch[k] = null;
      const result = Object.keys(patch).length ? await cli.client.changeSettings(app, name, patch) : await cli.client.getSettings(app, name);
      cli.out.lines(
        keyValues(Object.entries(result.effective).map(([k, v]) => [k, `${v}${k in result.settings ? '' : ' (server default)'}`] as [string, string])),
      );
      cli.out.result(result);
    });
}
