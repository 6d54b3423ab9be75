/** What the pipeline commands print: task summaries, the pipelines and activity tables, a run with its tasks and log, a run's rollback plan. */
import type { PipelineLogView, PipelineRunView, PipelineTaskView, PipelineView, RunRollbackPlanView } from '../contract/index.js';
import { formatPlan, planChangesNothing } from '../domain/plan.js';
import { duration, keyValues, relativeTime, table, timestamp, when } from './format.js';

/** `build → deploy test (backup) → run test → approval → promote test→production`. */
export function taskSummary(tasks: readonly unknown[]): string {
  return tasks
    .map((t) => {
      const d = t as { kind: string; name: string; env?: string; from?: string; to?: string; enableRollback?: boolean; mode?: string };
      const label =
        d.kind === 'deploy'
          ? `deploy ${d.env}${d.enableRollback ? ' (backup)' : ''}${d.mode === 'design' ? ' (design)' : ''}`
          : d.kind === 'promote'
            ? `promote ${d.from}→${d.to}`
            : d.kind === 'run'
              ? `run ${d.env}`
              : d.kind;
      return d.name !== d.kind ? `${d.name}: ${label}` : label;
    })
    .join(' → ');
}

export function pipelinesTable(list: readonly PipelineView[]): string[] {
  return table(
    ['NAME', 'SOURCE', 'TASKS'],
    list.map((p) => [p.name, p.source, taskSummary(p.tasks)]),
  );
}

const took = (from: string, to: string | null, now: number) => duration((to ? Date.parse(to) : now) - Date.parse(from));

/** Pipeline activity: `RUN  PIPELINE  STATUS  STARTED  DURATION  STORIES  ROLLBACK`. */
export function activityTable(runs: readonly PipelineRunView[], now = Date.now()): string[] {
  return table(
    ['RUN', 'PIPELINE', 'STATUS', 'STARTED', 'DURATION', 'STORIES', 'ROLLBACK'],
    runs.map((r) => [
      r.id,
      r.pipeline,
      r.status,
      relativeTime(r.createdAt, now),
      took(r.createdAt, r.finishedAt, now),
      r.stories.join(', '),
      r.rollbackStatus === 'none' ? '' : r.rollbackStatus,
    ]),
  );
}

function taskDetail(t: PipelineTaskView): string {
  const parts: string[] = [];
  if (t.deployment) parts.push(`deployment ${t.deployment}`);
  if (t.release) parts.push(`release ${t.release}`);
  if (t.backupRelease) parts.push(`backup ${t.backupRelease}`);
  if (t.error) parts.push(t.error);
  return parts.join(', ');
}

/**
 * A run's rollback plan: `Plan: roll back run P… (ship, succeeded) of APP`, its warnings, then per
 * task (in the order they are restored) what happens and the plan from what is live now to the backup.
 */
export function runRollbackLines(plan: RunRollbackPlanView): string[] {
  const out = [`Plan: roll back run ${plan.run} (${plan.status}) of ${plan.app}`];
  for (const w of plan.warnings) out.push(`  warning: ${w}`);
  if (plan.tasks.length === 0) out.push('  no deploy task ran: nothing to restore');
  for (const t of plan.tasks) {
    const head = `  task ${t.index + 1} ${t.name}`;
    if (!t.plan) {
      out.push(`${head}: ${t.action}${t.why ? ` (${t.why})` : ''}`);
      continue;
    }
    out.push(
      `${head}: ${t.action === 'stage' ? 'stage' : 'restore'} backup ${t.backup} in ${t.env} (${t.action === 'stage' ? 'staged' : 'active'}: ${t.plan.from ?? 'none'})`,
    );
    const body = formatPlan(t.plan).map((l) => `  ${l}`);
    out.push(...body);
    if (planChangesNothing(t.plan)) out.push('    nothing changes');
    else if (t.plan.empty) out.push(`    ${t.env} will run nothing`);
  }
  return out;
}

/** `rewind pipelines show RUN`: the run, each task, its log; the rollback section only when one was triggered. */
export function runLines(run: PipelineRunView, logs: readonly PipelineLogView[], now = Date.now()): string[] {
  const out = keyValues([
    ['Run', run.id],
    ['Pipeline', run.pipeline],
    ['Status', run.status + (run.error ? ` (${run.error})` : '')],
    ['Stories', run.stories.join(', ')],
    ['Started', when(run.createdAt, now)],
    ['Duration', took(run.createdAt, run.finishedAt, now)],
    ['By', run.createdBy],
  ]);
  out.push('', 'TASKS');
  out.push(
    ...table(
      ['#', 'TASK', 'KIND', 'STATUS', 'DURATION', 'ROLLBACK', 'DETAIL'],
      run.tasks.map((t) => [
        String(t.index + 1),
        t.name,
        t.kind,
        t.status,
        t.startedAt ? took(t.startedAt, t.finishedAt, now) : '',
        t.kind === 'deploy' || t.kind === 'promote' ? t.rollbackStatus : '',
        taskDetail(t),
      ]),
    ),
  );
  const line = (l: PipelineLogView) => `${timestamp(l.at)} ${l.task === null ? 'run' : `task ${l.task + 1}`}  ${l.message}`;
  out.push('', 'LOG', ...logs.filter((l) => l.section === 'run').map(line));
  if (run.rollback) {
    out.push('', `ROLLBACK (${run.rollback.status}${run.rollback.reason ? `: ${run.rollback.reason}` : ''})`, ...run.rollback.logs.map(line));
  }
  return out;
}
