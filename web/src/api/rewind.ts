import { enc, get, post, q, send } from './client';
import type {
  AppView,
  AuditEntryView,
  BuildView,
  DeploymentView,
  EnvConfigView,
  PlanBasis,
  PlanView,
  ProcessView,
  PromoteRequest,
  ReleaseChange,
  ReleaseView,
  RollbackRequest,
} from './types';

const a = (app: string) => `/api/apps/${enc(app)}`;

/** Every API call the console makes, typed by the server's own body types. */
export const rewind = {
  apps: () => get<AppView[]>('/api/apps'),
  app: (app: string) => get<AppView>(a(app)),
  createApp: (name: string) => post<AppView>('/api/apps', { name }),
  /** With `component`: that component's build history (its versions). */
  builds: (app: string, limit = 100, component?: string) => get<BuildView[]>(`${a(app)}/builds${q({ limit, component })}`),
  build: (app: string, id: string) => get<BuildView>(`${a(app)}/builds/${enc(id)}`),
  buildLogs: async (app: string, id: string) => (await send('GET', `${a(app)}/builds/${enc(id)}/logs`)).text(),
  releases: (app: string, env: string, limit = 50) => get<ReleaseView[]>(`${a(app)}/releases${q({ env, limit })}`),
  release: (app: string, id: string) => get<ReleaseView>(`${a(app)}/releases/${enc(id)}`),
  promote: (app: string, id: string, env: string) => post<ReleaseChange>(`${a(app)}/releases/${enc(id)}/promote`, { env }),
  rollback: (app: string, r: RollbackRequest, basis?: PlanBasis) => post<ReleaseChange>(`${a(app)}/rollback`, { ...r, basis }),
  rollbackPlan: async (app: string, r: RollbackRequest) => (await post<{ plan: PlanView }>(`${a(app)}/rollback`, { ...r, dryRun: true })).plan,
  diff: (app: string, from: string, to: string) => get<PlanView>(`${a(app)}/diff${q({ from, to })}`),
  config: (app: string, env: string) => get<EnvConfigView>(`${a(app)}/env${q({ env })}`),
  setConfig: (app: string, env: string, set: Record<string, string>, unset: string[], promote: boolean) =>
    post<ReleaseChange>(`${a(app)}/env`, { env, set, unset, promote }),
  deployments: (app: string, env: string, limit = 50) => get<DeploymentView[]>(`${a(app)}/deployments${q({ env, limit })}`),
  deployment: (id: string) => get<DeploymentView>(`/api/deployments/${enc(id)}`),
  ps: (app: string, env: string) => get<ProcessView[]>(`${a(app)}/ps${q({ env })}`),
  audit: (app?: string, limit = 50) => get<AuditEntryView[]>(`/api/audit${q({ app, limit })}`),
  promoteEnv: (app: string, body: PromoteRequest, basis?: PlanBasis) => post<ReleaseChange>(`${a(app)}/promote`, { ...body, basis }),
  promoteEnvPlan: async (app: string, body: PromoteRequest) => (await post<{ plan: PlanView }>(`${a(app)}/promote`, { ...body, dryRun: true })).plan,
  revert: (app: string, id: string, env: string, basis?: PlanBasis) => post<ReleaseChange>(`${a(app)}/releases/${enc(id)}/revert`, { env, basis }),
  revertPlan: async (app: string, id: string, env: string) =>
    (await post<{ plan: PlanView }>(`${a(app)}/releases/${enc(id)}/revert`, { env, dryRun: true })).plan,
};
