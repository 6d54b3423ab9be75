import type { Command } from 'commander';
import type { DryRunView, UpgradeResult, UpgradeStatusView } from '../contract/index.js';
import { isRewindError } from '../domain/errors.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { followDeployment } from './follow.js';
import { relativeTime, table } from './format.js';
import { runPlanned, type PlanFlags } from './plan.js';

/** `shop` or `shop@2.0`. */
function parseRef(ref: string): { template: string; version?: string } {
  const at = ref.indexOf('@');
  if (at < 0) return { template: ref };
  if (at === 0 || at === ref.length - 1) throw new CliError(`"${ref}" is not a template: write NAME or NAME@VERSION, e.g. shop@2.0`);
  return { template: ref.slice(0, at), version: ref.slice(at + 1) };
}

/** The status line of `templates upgrades`: what runs, and whether a newer version exists. */
export function upgradeStatusLine(s: UpgradeStatusView): string {
  if (!s.template) return `${s.app}/${s.env} was not installed from a template`;
  const running = s.installed ? `${s.template} ${s.installed}` : `no version of ${s.template} (every upgrade was rolled back)`;
  return s.upgradable
    ? `${s.app}/${s.env} runs ${running}; ${s.latest} is available: rewind templates upgrade -a ${s.app}${s.env === 'production' ? '' : ` -e ${s.env}`}`
    : `${s.app}/${s.env} runs ${running}, the newest version`;
}

/** `ID  FROM  TO  RELEASE  STATE  CREATED  ROLLED BACK`. */
export function upgradesTable(s: UpgradeStatusView, now = Date.now()): string[] {
  return table(
    ['ID', 'FROM', 'TO', 'RELEASE', 'STATE', 'CREATED', 'ROLLED BACK'],
    s.upgrades.map((u) => [
      u.id,
      u.fromVersion ?? '(install)',
      u.toVersion,
      u.release,
      u.state,
      relativeTime(u.createdAt, now),
      u.rolledBackRelease ? `${relativeTime(u.rolledBackAt as string, now)} (${u.rolledBackRelease})` : '',
    ]),
  );
}

/** `rewind templates …`: publish an app as a versioned template, install it, upgrade, roll an upgrade back (Rainbond). */
export function registerTemplates(program: Command, cli: Cli): void {
  const templates = registerTemplatesList(program, cli);
  registerTemplatesInfo(templates, cli);
  registerTemplatesPublish(templates, cli);
  registerTemplatesInstall(templates, cli);
  registerTemplatesUpgrade(templates, cli);
  registerTemplatesUpgrades(templates, cli);
  registerTemplatesRollback(templates, cli);
}

/** `rewind templates`: the command group, which lists the templates. */
function registerTemplatesList(program: Command, cli: Cli): Command {
  return program
    .command('templates')
    .description('app templates: publish a release as a version, install it, upgrade an app to a newer one, roll an upgrade back')
    .action(async (_o: unknown, cmd: Command) => {
      cli.globals(cmd);
      const list = await cli.client.listTemplates();
      cli.out.lines(
        table(
          ['NAME', 'LATEST', 'VERSIONS', 'PUBLISHED'],
          list.map((t) => [t.name, t.latest, String(t.versions.length), relativeTime(t.versions[0]?.createdAt ?? '', Date.now())]),
        ),
      );
      cli.out.result(list);
    });
}

/** `rewind templates info NAME`: a template's versions. */
function registerTemplatesInfo(templates: Command, cli: Cli): void {
  templates
    .command('info')
    .argument('<name>', 'template name')
    .description("a template's versions, newest first")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      cli.globals(cmd);
      const t = await cli.client.getTemplate(name);
      const now = Date.now();
      cli.out.lines(
        table(
          ['VERSION', 'FROM', 'COMPONENTS', 'PUBLISHED', 'NOTE'],
          t.versions.map((v) => [
            v.version,
            `${v.sourceApp}/${v.sourceEnv} ${v.sourceRelease}`,
            v.components.join(','),
            relativeTime(v.createdAt, now),
            v.note,
          ]),
        ),
      );
      cli.out.result(t);
    });
}

/** `rewind templates publish NAME@VERSION [--note TEXT]`. */
function registerTemplatesPublish(templates: Command, cli: Cli): void {
  templates
    .command('publish')
    .argument('<name@version>', 'template name and the new version number, e.g. shop@1.0 (a version is never replaced)')
    .option('--note <text>', 'what changed in this version')
    .description("publish the -a app's active release in -e as a new version of a template")
    .action(async (ref: string, o: { note?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const { template: name, version } = parseRef(ref);
      if (!version) throw new CliError(`give the new version: rewind templates publish ${name}@1.0 -a ${app}`);
      cli.out.start(`Publishing ${app}/${g.env} as ${name} ${version}`);
      const v = await cli.client.publishTemplate({ name, version, app, env: g.env, ...(o.note ? { note: o.note } : {}) });
      cli.out.done();
      cli.out.line(`${name} ${v.version}: ${v.components.join(', ')} of ${v.sourceRelease}`);
      cli.out.result(v);
    });
}

/** Runs an install (an upgrade that changes something) and streams its rollout; prints the upgrade and the release. */
async function installAndFollow(cli: Cli, label: string, run: () => Promise<DryRunView | UpgradeResult>): Promise<void> {
  cli.out.start(label);
  const r = await run();
  if (!('upgrade' in r)) throw new CliError('the server answered with a plan but changed nothing');
  const deployment = await followDeployment(cli, r.deployment);
  cli.out.done();
  cli.out.line(`Upgrade:  ${r.upgrade.id}`);
  cli.out.line(`Release:  ${r.release.id}`);
  cli.out.result({ ...r, deployment });
}

/** `rewind templates install NAME[@VERSION] --as APP`: creates the app when it does not exist, then installs. */
function registerTemplatesInstall(templates: Command, cli: Cli): void {
  templates
    .command('install')
    .argument('<template>', 'NAME or NAME@VERSION (default: the newest version)')
    .requiredOption('--as <app>', 'the app to install it as (created when it does not exist)')
    .description('install a template version as an app (in -e, default production), streaming the rollout')
    .action(async (ref: string, o: { as: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const { template, version } = parseRef(ref);
      try {
        await cli.client.createApp(o.as);
        cli.out.line(`Created app ${o.as}`);
      } catch (err) {
        if (!isRewindError(err) || err.code !== 'APP_EXISTS') throw err;
      }
      await installAndFollow(cli, `Installing ${template}${version ? ` ${version}` : ''} as ${o.as}/${g.env}`, () =>
        cli.client.upgrade(o.as, { env: g.env, template, ...(version ? { version } : {}) }),
      );
    });
}

/** `rewind templates upgrade [--to VERSION]`: planned (shown, asked in a terminal), then applied. */
function registerTemplatesUpgrade(templates: Command, cli: Cli): void {
  templates
    .command('upgrade')
    .option('--to <version>', 'the version to upgrade to (default: the newest)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'do not ask for confirmation in a terminal')
    .description('upgrade the -a app in -e to a newer version of its template (asks in a terminal), streaming the rollout')
    .action(async (o: PlanFlags & { to?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      await runPlanned(cli, o, {
        call: (dryRun, basis) => cli.client.upgrade(app, { env: g.env, ...(o.to ? { version: o.to } : {}), dryRun, basis }),
        label: (plan) => `Upgrading ${app}/${g.env} (${plan.description})`,
      });
    });
}

/** `rewind templates upgrades`: the version the app runs and its upgrade records. */
function registerTemplatesUpgrades(templates: Command, cli: Cli): void {
  templates
    .command('upgrades')
    .description('the template version the -a app runs in -e, whether a newer one exists, and its upgrade records')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const s = await cli.client.upgrades(cli.app(g), g.env);
      cli.out.line(upgradeStatusLine(s));
      if (s.upgrades.length) cli.out.lines(['', ...upgradesTable(s)]);
      cli.out.result(s);
    });
}

/** `rewind templates rollback [UPGRADE]`: planned, then applied. */
function registerTemplatesRollback(templates: Command, cli: Cli): void {
  templates
    .command('rollback')
    .argument('[upgrade]', 'the upgrade (U…) to roll back (default: the newest not rolled back)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'do not ask for confirmation in a terminal')
    .description('roll an upgrade back in one click: the -a app in -e goes back to the release before it (asks in a terminal)')
    .action(async (id: string | undefined, o: PlanFlags, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      await runPlanned(cli, o, {
        call: (dryRun, basis) => cli.client.rollbackUpgrade(app, { env: g.env, ...(id ? { upgrade: id } : {}), dryRun, basis }),
        label: (plan) => `Rolling back ${id ?? 'the last upgrade'} of ${app}/${g.env} (${plan.description})`,
      });
    });
}
