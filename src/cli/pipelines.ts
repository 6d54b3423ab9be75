import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { PipelineLogView, PipelineRunView, RunRollbackPlanView } from '../contract/index.js';
import { uploadSource } from './builds.js';
import type { Cli } from './context.js';
import { CliError, UnreachableError } from './errors.js';
import { relativeTime, table, timestamp } from './format.js';
import { activityTable, pipelinesTable, runLines, runRollbackLines } from './pipeline-format.js';
import { collect, refusedIfStale, show, type PlanFlags } from './plan.js';

/**
 * Streams a run's log lines until it stops moving (finished, or its rollback finished); returns the
 * run. A dropped stream is resumed without repeating lines.
 */
async function followRun(cli: Cli, id: string): Promise<PipelineRunView> {
  let last = 0;
  let failures = 0;
  for (;;) {
    try {
      for await (const ev of await cli.client.runEvents(id)) {
        failures = 0;
        if (ev.event === 'log') {
          const l = JSON.parse(ev.data) as PipelineLogView;
          if (l.seq <= last) continue;
          last = l.seq;
          cli.out.line(`${timestamp(l.at)} ${l.section === 'rollback' ? 'rollback ' : ''}${l.task === null ? '' : `[${l.task + 1}] `}${l.message}`);
        } else if (ev.event === 'end') return JSON.parse(ev.data) as PipelineRunView;
      }
    } catch (err) {
      if (!(err instanceof UnreachableError) || ++failures > 10) throw err;
    }
    await sleep(500 * Math.max(1, failures));
  }
}

/** `rewind pipelines …` and `rewind stories …`. */
export function registerPipelines(program: Command, cli: Cli): void {
  const pipelines = registerPipelinesList(program, cli);
  registerPipelinesDefine(pipelines, cli);
  registerPipelinesRun(pipelines, cli);
  registerPipelinesActivity(pipelines, cli);
  registerPipelinesShow(pipelines, cli);
  registerPipelinesDecide(pipelines, cli);
  registerPipelinesRollback(pipelines, cli);
  const stories = registerStoriesList(program, cli);
  registerStoriesShow(stories, cli);
}

/** `rewind pipelines`: the command group, which lists the pipelines of an app. */
function registerPipelinesList(program: Command, cli: Cli): Command {
  return program
    .command('pipelines')
    .description('list the release pipelines of an app')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listPipelines(cli.app(g));
      if (list.length === 0)
        cli.out.line(`No pipelines yet: define them under pipelines: in rewind.yml, or with "rewind pipelines define FILE -a ${cli.app(g)}"`);
      else cli.out.lines(pipelinesTable(list));
      cli.out.result(list);
    });
}

/** `rewind pipelines define FILE`. */
function registerPipelinesDefine(pipelines: Command, cli: Cli): void {
  pipelines
    .command('define')
    .argument('<file>', 'a YAML or JSON file: name → list of tasks (or a rewind.yml with pipelines:)')
    .description('define or redefine pipelines through the API')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const { parse: parseYaml } = await import('yaml');
      const doc = parseYaml(await readFile(file, 'utf8')) as Record<string, unknown> | null;
      const value = doc && typeof doc === 'object' && 'pipelines' in doc ? doc.pipelines : doc;
      cli.out.start(`Defining pipelines of ${cli.app(g)}`);
      const list = await cli.client.definePipelines(cli.app(g), value);
      cli.out.done();
      cli.out.show(list, pipelinesTable(list));
    });
}

/** `rewind pipelines run NAME [DIR]`: starts a run (uploading DIR, or on --build) and streams it. */
function registerPipelinesRun(pipelines: Command, cli: Cli): void {
  pipelines
    .command('run')
    .argument('<name>', 'pipeline name')
    .argument('[dir]', 'source folder to upload and build (its rewind.yml pipelines apply)')
    .option('--story <id>', 'work item (user story) this run delivers (repeatable)', collect)
    .option('--build <id>', 'run on an existing build instead of uploading source')
    .option('-d, --description <text>', 'build description')
    .option('--detach', 'start the run and return without streaming it')
    .description('run a pipeline, streaming its tasks')
    .action(async (name: string, dir: string | undefined, o: { story?: string[]; build?: string; description?: string; detach?: boolean }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const stories = o.story ?? [];
      const run = dir
        ? await uploadSource(
            cli,
            g,
            dir,
            (upload) => cli.client.startRun(app, name, { stories, description: o.description, upload }),
            `Starting pipeline ${name}`,
          )
        : await (async () => {
            cli.out.start(`Starting pipeline ${name}`);
            const r = await cli.client.startRun(app, name, { stories, build: o.build });
            cli.out.done();
            return r;
          })();
      cli.out.line(`Run: ${run.id}`);
      if (o.detach) return cli.out.result(run);
      const final = await followRun(cli, run.id);
      cli.out.result(final);
      if (final.status !== 'succeeded') throw new CliError(`run ${final.id} ${final.status}: ${final.error ?? `see "rewind pipelines show ${final.id}"`}`, 1);
      cli.out.line(`OK, ${final.id}`);
    });
}

/** `rewind pipelines activity [--story ID]`. */
function registerPipelinesActivity(pipelines: Command, cli: Cli): void {
  pipelines
    .command('activity')
    .option('--story <id>', 'only runs of this work item')
    .description('pipeline activity: runs, newest first')
    .action(async (o: { story?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const runs = await cli.client.listRuns(cli.app(g), o.story);
      cli.out.show(runs, activityTable(runs));
    });
}

/** `rewind pipelines show RUN`. */
function registerPipelinesShow(pipelines: Command, cli: Cli): void {
  pipelines
    .command('show')
    .argument('<run>', 'run id (P…)')
    .description("a run's tasks (status, times, deployment, backup, rollback status) and its logs")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      cli.globals(cmd);
      const run = await cli.client.getRun(id);
      cli.out.show(run, runLines(run, await cli.client.runLogs(id)));
    });
}

/** `rewind pipelines approve RUN` and `rewind pipelines reject RUN`. */
function registerPipelinesDecide(pipelines: Command, cli: Cli): void {
  for (const [verb, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    pipelines
      .command(verb)
      .argument('<run>', 'run id (P…)')
      .description(`${approve ? 'approve' : 'reject'} the approval a run waits on`)
      .action(async (id: string, _o: unknown, cmd: Command) => {
        cli.globals(cmd);
        cli.out.start(`${approve ? 'Approving' : 'Rejecting'} ${id}`);
        const run = await cli.client.decideRun(id, approve);
        cli.out.done();
        cli.out.result(run);
      });
  }
}

/** `rewind pipelines rollback RUN`: shows the plan (asks in a terminal), rolls back and streams it. */
function registerPipelinesRollback(pipelines: Command, cli: Cli): void {
  pipelines
    .command('rollback')
    .argument('<run>', 'run id (P…)')
    .option('--reason <text>', 'why (kept in the run and the audit log)')
    .option('--dry-run', 'print the plan (per task, from what is live now to its backup) and change nothing')
    .option('-y, --yes', 'do not ask for confirmation in a terminal')
    .description('roll a run back, during or after it: cancel what is pending, restore each backup in reverse order (shows the plan and asks in a terminal)')
    .action(async (id: string, o: { reason?: string } & PlanFlags, cmd: Command) => {
      cli.globals(cmd);
      let plan: RunRollbackPlanView | undefined;
      if (o.dryRun || (cli.interactive && !o.yes)) {
        plan = await cli.client.rollbackRunPlan(id);
        if (o.dryRun) {
          cli.out.show({ plan }, runRollbackLines(plan));
          return;
        }
        show(cli, runRollbackLines(plan));
        if (!(await cli.confirm('Proceed? [y/N]'))) throw new CliError('cancelled; nothing changed', 1);
      }
      cli.out.start(`Rolling back ${id}`);
      await refusedIfStale(cli, () => cli.client.rollbackRun(id, { reason: o.reason, basis: plan?.basis }), runRollbackLines);
      cli.out.close();
      const final = await followRun(cli, id);
      cli.out.result(final);
      if (final.rollbackStatus !== 'rolled back') throw new CliError(`rollback of ${id} ${final.rollbackStatus}; see "rewind pipelines show ${id}"`, 1);
      cli.out.line('OK');
    });
}

/** `rewind stories`: the command group, which lists the work items seen on runs. */
function registerStoriesList(program: Command, cli: Cli): Command {
  return program
    .command('stories')
    .description('work items (user stories) seen on pipeline runs')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listStories(cli.app(g));
      cli.out.lines(
        table(
          ['STORY', 'RUNS', 'LAST RUN', 'STATUS'],
          list.map((s) => [s.id, String(s.runs), relativeTime(s.lastRun), s.lastStatus]),
        ),
      );
      cli.out.result(list);
    });
}

/** `rewind stories show ID`. */
function registerStoriesShow(stories: Command, cli: Cli): void {
  stories
    .command('show')
    .argument('<id>', 'story id')
    .description("a story's pipeline activity")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const story = await cli.client.getStory(cli.app(g), id);
      cli.out.show(story, activityTable(story.runs));
    });
}
