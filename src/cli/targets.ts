import type { Command } from 'commander';
import type { TargetView } from '../contract/index.js';
import type { Cli } from './context.js';
import { CliError } from './errors.js';
import { table } from './format.js';

/** `NAME  KIND  DOCKER HOST  REGISTRY  EDGES  ENVIRONMENTS`, local first. */
export function targetsTable(targets: readonly TargetView[]): string[] {
  return table(
    ['NAME', 'KIND', 'DOCKER HOST', 'REGISTRY', 'EDGES', 'ENVIRONMENTS'],
    targets.map((t) => [t.name, t.kind, t.dockerHost ?? '', t.registry ?? '', String(t.edges.length), t.environments.join(', ')]),
  );
}

/** `rewind targets`, `targets add NAME --swarm --docker-host URL [--registry HOST:PORT] [--edge URL…]`, `targets remove NAME`. */
export function registerTargets(program: Command, cli: Cli): void {
  const targets = program
    .command('targets')
    .description('where environments run: local (this host) and the Swarm clusters added')
    .action(async (_o: unknown, cmd: Command) => {
      cli.globals(cmd);
      const list = await cli.client.listTargets();
      cli.out.show(list, targetsTable(list));
    });

  targets
    .command('add')
    .argument('<name>', 'target name, e.g. lab')
    .option('--swarm', 'a Docker Swarm cluster (the only kind besides local)')
    .requiredOption('--docker-host <url>', "a swarm manager's Docker host: unix:///PATH or tcp://HOST:PORT")
    .option('--registry <host:port>', 'the registry its images come from')
    .option('--edge <url...>', "the edges' URLs (the Rewind agent on each node); they are called with the local agent's token")
    .description('add a Swarm target; its Docker host must answer and be a swarm manager')
    .action(async (name: string, o: { swarm?: boolean; dockerHost: string; registry?: string; edge?: string[] }, cmd: Command) => {
      cli.globals(cmd);
      if (!o.swarm) throw new CliError('give the kind of target: --swarm (the only kind besides local)');
      cli.out.start(`Adding ${name}`);
      const t = await cli.client.addTarget({
        name,
        kind: 'swarm',
        dockerHost: o.dockerHost,
        ...(o.registry !== undefined ? { registry: o.registry } : {}),
        ...(o.edge?.length ? { edges: o.edge } : {}),
      });
      cli.out.done();
      cli.out.result(t);
    });

  targets
    .command('remove')
    .argument('<name>', 'target name')
    .description('remove a target (refused while an environment runs on it)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      cli.globals(cmd);
      cli.out.start(`Removing ${name}`);
      await cli.client.removeTarget(name);
      cli.out.done();
    });
}
