import { enc, get, post, q } from './client';
import type { PipelineRunView, PipelineView, PlanBasis, RunRollbackPlanView, StoryRunsView, StoryView } from './types';

const a = (app: string) => `/api/apps/${enc(app)}`;
const r = (id: string) => `/api/pipelines/runs/${enc(id)}`;

/** Release pipelines (issue 5): definitions, runs and their rollback, stories. */
export const pipelines = {
  list: (app: string) => get<PipelineView[]>(`${a(app)}/pipelines`),
  runs: (app: string, story?: string, limit = 50) => get<PipelineRunView[]>(`${a(app)}/pipelines/runs${q({ story, limit })}`),
  start: (app: string, name: string, body: { stories: string[]; build?: string }) => post<PipelineRunView>(`${a(app)}/pipelines/${enc(name)}/runs`, body),
  run: (id: string) => get<PipelineRunView>(r(id)),
  approve: (id: string) => post<PipelineRunView>(`${r(id)}/approve`, {}),
  reject: (id: string) => post<PipelineRunView>(`${r(id)}/reject`, {}),
  /** With `basis` (its plan's), refused with STALE_PLAN when an environment changed since the plan. */
  rollback: (id: string, reason?: string, basis?: PlanBasis) =>
    post<PipelineRunView>(`${r(id)}/rollback`, { ...(reason ? { reason } : {}), ...(basis ? { basis } : {}) }),
  /** What rolling a run back would do, per task; changes nothing. */
  rollbackPlan: async (id: string) => (await post<{ plan: RunRollbackPlanView }>(`${r(id)}/rollback`, { dryRun: true })).plan,
  eventsPath: (id: string) => `${r(id)}/events`,
  stories: (app: string) => get<StoryView[]>(`${a(app)}/stories`),
  story: (app: string, id: string) => get<StoryRunsView>(`${a(app)}/stories/${enc(id)}`),
};

/** A task's options as a short phrase: `production, rollback enabled`. */
export function taskOptions(kind: string, options: unknown): string {
  const o = (options ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  if (kind === 'promote' && o.from && o.to) parts.push(`${o.from} → ${o.to}`);
  else if (typeof o.env === 'string') parts.push(o.env);
  if (o.enableRollback) parts.push('rollback enabled');
  if (o.autoRollback) parts.push('automatic rollback');
  if (o.mode === 'design') parts.push('design time (staged)');
  if (typeof o.command === 'string') parts.push(`$ ${o.command}`);
  if (typeof o.message === 'string') parts.push(`“${o.message}”`);
  return parts.join(', ');
}
