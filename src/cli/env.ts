import type { Command } from 'commander';
import { RewindError } from '../domain/errors.js';
import type { ConfigRequest } from '../contract/index.js';
import type { Cli, GlobalOptions } from './context.js';
import { followDeployment } from './follow.js';
import { configLines } from './format.js';
import { parseAssignments } from './options.js';

/** Applies a config change: `Setting A, B... OK`, `Release: R…`, then the rollout when promoted. */
async function change(cli: Cli, g: GlobalOptions, verb: string, keys: readonly string[], c: ConfigRequest): Promise<void> {
  const app = cli.app(g);
  cli.out.start(`${verb} ${keys.join(', ')}`);
  const result = await cli.client.changeEnv(app, c);
  cli.out.done();
  cli.out.line(`Release: ${result.release.id}`);
  // Staged (--no-promote) on top of what runs: not in effect, not shown by `rewind env`, not carried by later changes.
  if (!result.deployment && Object.keys(result.release.builds).length > 0) {
    cli.out.line(`Staged, not running: "rewind env" shows the active config; promote it with "rewind releases promote ${result.release.id}"`);
  }
  let deployment = null;
  if (result.deployment) {
    cli.out.start(`Promoting ${result.release.id}`);
    deployment = await followDeployment(cli, result.deployment);
    cli.out.done();
  }
  cli.out.result({ release: result.release, deployment });
}

/** `rewind env`, `env get KEY`, `env set K=V…`, `env unset K…`. */
export function registerEnv(program: Command, cli: Cli): void {
  const env = program
    .command('env')
    .description("print an environment's variables (KEY=VALUE, sorted)")
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const current = await cli.client.getEnv(cli.app(g), g.env);
      cli.out.show(current, configLines(current.config));
    });

  env
    .command('get')
    .argument('<key>', 'variable name')
    .description('print one variable')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const { config } = await cli.client.getEnv(app, g.env);
      if (!Object.hasOwn(config, key))
        throw new RewindError('CONFIG_KEY_NOT_SET', `${key} is not set in ${app}/${g.env}; see "rewind env -a ${app} -e ${g.env}"`);
      cli.out.line(config[key]);
      cli.out.result({ [key]: config[key] });
    });

  env
    .command('set')
    .argument('<pairs...>', 'KEY=VALUE pairs')
    .option('--no-promote', 'make the release without deploying it')
    .description('set variables: makes a new release and promotes it')
    .action(async (pairs: string[], o: { promote: boolean }, cmd: Command) => {
      const g = cli.globals(cmd);
      const set = parseAssignments(pairs);
      await change(cli, g, 'Setting', Object.keys(set), { env: g.env, set, unset: [], promote: o.promote });
    });

  env
    .command('unset')
    .argument('<keys...>', 'variable names')
    .option('--no-promote', 'make the release without deploying it')
    .description('remove variables: makes a new release and promotes it')
    .action(async (keys: string[], o: { promote: boolean }, cmd: Command) => {
      const g = cli.globals(cmd);
      await change(cli, g, 'Unsetting', keys, { env: g.env, set: {}, unset: keys, promote: o.promote });
    });
}
