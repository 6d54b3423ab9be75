import type { Command } from 'commander';
import type { ReleaseView } from '../api/types.js';
import type { Cli } from './context.js';
import { followDeployment } from './follow.js';
import { configLines, keyValues, relativeTime, table, when } from './format.js';
import { positive } from './options.js';

/** Exactly Convox's `releases` table: `ID  STATUS  BUILD  CREATED  DESCRIPTION`, newest first. */
export function releasesTable(releases: readonly ReleaseView[], now: number = Date.now()): string[] {
  return table(
    ['ID', 'STATUS', 'BUILD', 'CREATED', 'DESCRIPTION'],
    releases.map((r) => [r.id, r.status, r.build ?? '', relativeTime(r.createdAt, now), r.description]),
  );
}

export function releaseInfo(r: ReleaseView, now: number = Date.now()): string[] {
  const builds = Object.entries(r.builds)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([component, build]) => `${component}=${build}`);
  const pairs: [string, string][] = [
    ['Id', r.id],
    ['App', r.app],
    ['Environment', r.env],
    ['Status', r.status],
    ['Build', r.build ?? ''],
  ];
  if (builds.length > 1 || (builds.length === 1 && !r.builds.web)) pairs.push(['Components', builds.join('\n')]);
  pairs.push(['Kind', r.kind], ['Description', r.description]);
  if (r.source) pairs.push(['Source', r.source]);
  pairs.push(['Created', when(r.createdAt, now)], ['By', r.createdBy], ['Env', configLines(r.config).join('\n')]);
  return keyValues(pairs);
}

/** `rewind releases`, `releases info RID`, `releases promote RID`, `releases rollback [RID]`. */
export function registerReleases(program: Command, cli: Cli): void {
  const releases = program
    .command('releases')
    .option('--limit <n>', 'how many releases', '20')
    .description('list the releases of an environment, newest first')
    .action(async (o: { limit: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listReleases(cli.app(g), g.env, positive(o.limit, '--limit'));
      cli.out.lines(releasesTable(list));
      cli.out.result(list);
    });

  releases
    .command('info')
    .argument('<id>', 'release id (R…)')
    .description('show a release: builds, config, origin')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const release = await cli.client.getRelease(cli.app(g), id);
      cli.out.lines(releaseInfo(release));
      cli.out.result(release);
    });

  releases
    .command('promote')
    .argument('<id>', 'release id (R…)')
    .description('make a release active in the -e environment, streaming the rollout')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      cli.out.start(`Promoting ${id}`);
      const change = await cli.client.promoteRelease(app, id, g.env);
      const deployment = change.deployment ? await followDeployment(cli, change.deployment) : null;
      cli.out.done();
      cli.out.result({ release: change.release, deployment });
    });

  releases
    .command('rollback')
    .argument('[id]', 'release to roll back to (default: the one active before the current one)')
    .description('copy an old release into a new one and promote it, streaming the rollout')
    .action(async (id: string | undefined, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      if (id) cli.out.start(`Rolling back to ${id}`);
      const change = await cli.client.rollback(app, g.env, id);
      // Without an id the server picks the release; the copy's source names it.
      if (!id) cli.out.start(`Rolling back to ${change.release.source ?? 'the previous release'}`);
      const deployment = change.deployment ? await followDeployment(cli, change.deployment) : null;
      cli.out.done(`OK, ${change.release.id}`);
      cli.out.result({ release: change.release, deployment });
    });
}
