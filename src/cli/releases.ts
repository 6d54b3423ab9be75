import type { Command } from 'commander';
import type { ReleaseView } from '../contract/index.js';
import type { Cli } from './context.js';
import { followDeployment } from './follow.js';
import { configLines, keyValues, relativeTime, table, when } from './format.js';
import { positive } from './options.js';
import { collect, diffLines, parseComponentBuilds, parseNames, runPlanned } from './plan.js';
import type { PlanFlags } from './plan.js';

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

/**
 * `rewind releases`, `releases info RID`, `releases promote RID`, `releases rollback [RID]`,
 * `releases revert RID`, and the comparisons between releases: `promote --from --to`, `diff R1 R2`.
 */
export function registerReleases(program: Command, cli: Cli): void {
  const releases = registerReleasesList(program, cli);
  registerReleasesInfo(releases, cli);
  registerReleasesPromote(releases, cli);
  registerReleasesRollback(releases, cli);
  registerReleasesRevert(releases, cli);
  registerPromote(program, cli);
  registerDiff(program, cli);
}

/** `rewind releases [--limit N]`: the command group, which lists the releases of an environment. */
function registerReleasesList(program: Command, cli: Cli): Command {
  return program
    .command('releases')
    .option('--limit <n>', 'how many releases', '20')
    .description('list the releases of an environment, newest first')
    .action(async (o: { limit: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listReleases(cli.app(g), g.env, positive(o.limit, '--limit'));
      cli.out.show(list, releasesTable(list));
    });
}

/** `rewind releases info RID`. */
function registerReleasesInfo(releases: Command, cli: Cli): void {
  releases
    .command('info')
    .argument('<id>', 'release id (R…)')
    .description('show a release: builds, config, origin')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const release = await cli.client.getRelease(cli.app(g), id);
      cli.out.show(release, releaseInfo(release));
    });
}

/** `rewind releases promote RID`: makes a release active in -e, streaming the rollout. */
function registerReleasesPromote(releases: Command, cli: Cli): void {
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
}

/** `rewind releases rollback [RID] [--component NAME=BUILD]…`: planned (shown, asked in a terminal), then applied. */
function registerReleasesRollback(releases: Command, cli: Cli): void {
  releases
    .command('rollback')
    .argument('[id]', 'release to roll back to (default: the state before the current release)')
    .option('--component <name=build>', 'move just this component to an earlier build of its own (repeatable)', collect)
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'do not ask for confirmation in a terminal')
    .description('roll the -e environment back: to a release, some components to earlier builds, or its state before the current release')
    .action(async (id: string | undefined, o: { component?: string[] } & PlanFlags, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const components = parseComponentBuilds(o.component ?? []);
      const moves = Object.keys(components).length > 0 ? components : undefined;
      await runPlanned(cli, o, {
        call: (dryRun, basis) => cli.client.rollback(app, { env: g.env, release: id, components: moves, dryRun, basis }),
        // `rollback to R…`, `rollback web to B…`, `rollback to empty (before R…)`
        label: (plan) =>
          plan.description.startsWith('rollback') ? `Rolling back${plan.description.slice('rollback'.length)}` : `Rolling back (${plan.description})`,
        early: id && !moves ? `Rolling back to ${id}` : undefined,
      });
    });
}

/** `rewind releases revert RID`: planned, then applied. */
function registerReleasesRevert(releases: Command, cli: Cli): void {
  releases
    .command('revert')
    .argument('<id>', 'release whose changes to undo (R…)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'do not ask for confirmation in a terminal')
    .description('undo only what one release changed (its components and config keys), keeping later changes')
    .action(async (id: string, o: PlanFlags, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      await runPlanned(cli, o, {
        call: (dryRun, basis) => cli.client.revert(app, id, { env: g.env, dryRun, basis }),
        label: () => `Reverting ${id}`,
        early: `Reverting ${id}`,
      });
    });
}

/** `rewind promote --from ENV [--to ENV] [--components NAMES]`: planned, then applied. */
function registerPromote(program: Command, cli: Cli): void {
  program
    .command('promote')
    .requiredOption('--from <env>', 'environment whose active release is promoted')
    .option('--to <env>', 'environment to promote into (default: -e)')
    .option('--components <names>', 'only these components, comma-separated (default: all)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'do not ask for confirmation in a terminal')
    .description("promote one environment's active release (or some of its components) to another, with the target's own config")
    .action(async (o: { from: string; to?: string; components?: string } & PlanFlags, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const to = o.to ?? g.env;
      const components = o.components === undefined ? undefined : parseNames(o.components);
      await runPlanned(cli, o, {
        call: (dryRun, basis) => cli.client.promote(app, { from: o.from, to, components, dryRun, basis }),
        label: (plan) => `Promoting ${plan.source ?? ''} from ${o.from} to ${to}`,
      });
    });
}

/** `rewind diff R1 R2`. */
function registerDiff(program: Command, cli: Cli): void {
  program
    .command('diff')
    .argument('<from>', 'release id (R…)')
    .argument('<to>', 'release id (R…)')
    .description('compare two releases: per component keep | change | add | remove, and config keys')
    .action(async (from: string, to: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const plan = await cli.client.diff(cli.app(g), from, to);
      cli.out.show(plan, diffLines(plan));
    });
}
