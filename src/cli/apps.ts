import type { Command } from 'commander';
import type { AppView } from '../contract/index.js';
import type { Cli } from './context.js';
import { componentUrls } from './envs.js';
import { keyValues, relativeTime, table } from './format.js';

/** `NAME  ENVIRONMENTS  RELEASE  HEALTH  URL`: release, health and URL of the -e environment. */
export function appsTable(apps: readonly AppView[], env: string): string[] {
  return table(
    ['NAME', 'ENVIRONMENTS', 'RELEASE', 'HEALTH', 'URL'],
    apps.map((a) => {
      const e = a.environments.find((x) => x.name === env);
      return [a.name, envNames(a).join(','), e?.activeRelease ?? '', e?.health ?? '', e?.url ?? ''];
    }),
  );
}

/** Name, Environments, then per environment its Release, URL and Health. */
export function appInfo(app: AppView, now: number = Date.now()): string[] {
  const pairs: [string, string][] = [
    ['Name', app.name],
    ['Environments', envNames(app).join(', ')],
    ['Created', relativeTime(app.createdAt, now)],
  ];
  for (const e of [...app.environments].sort((a, b) => a.position - b.position)) {
    pairs.push([e.name, ''], ['  Release', e.activeRelease ?? ''], ['  URL', [e.url, ...componentUrls(e)].join('\n')], ['  Health', e.health]);
  }
  return keyValues(pairs);
}

const envNames = (a: AppView) => [...a.environments].sort((x, y) => x.position - y.position).map((e) => e.name);

/** `rewind apps`, `apps create NAME`, `apps delete NAME`, `apps info [NAME]`. */
export function registerApps(program: Command, cli: Cli): void {
  const apps = program
    .command('apps')
    .description('list apps')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listApps();
      cli.out.show(list, appsTable(list, g.env));
    });

  apps
    .command('create')
    .argument('<name>', 'app name: [a-z][a-z0-9-]{0,62}')
    .description('create an app')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      cli.globals(cmd);
      cli.out.start(`Creating ${name}`);
      const app = await cli.client.createApp(name);
      cli.out.done();
      cli.out.result(app);
    });

  apps
    .command('delete')
    .argument('<name>', 'app name')
    .description('delete an app, its releases and its running processes')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      cli.globals(cmd);
      cli.out.start(`Deleting ${name}`);
      await cli.client.deleteApp(name);
      cli.out.done();
      cli.out.result({ deleted: name });
    });

  apps
    .command('info')
    .argument('[name]', 'app name (default: -a or REWIND_APP)')
    .description('show an app and its environments')
    .action(async (name: string | undefined, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = await cli.client.getApp(cli.app(g, name));
      cli.out.show(app, appInfo(app));
    });
}
