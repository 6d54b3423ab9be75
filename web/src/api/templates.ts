import { enc, get, post, q } from './client';
import type { PlanView, TemplateView, UpgradeRequest, UpgradeResult, UpgradeRollbackRequest, UpgradeStatusView } from './types';

const a = (app: string) => `/api/apps/${enc(app)}`;

/** App templates (Rainbond's shared library): their versions, and an environment's installs, upgrades and their rollback. */
export const templates = {
  list: () => get<TemplateView[]>('/api/templates'),
  get: (name: string) => get<TemplateView>(`/api/templates/${enc(name)}`),
  /** The version app/env runs, whether a newer one exists, and its install and upgrade records (newest first). */
  upgrades: (app: string, env: string) => get<UpgradeStatusView>(`${a(app)}/upgrades${q({ env })}`),
  /** Upgrades app/env to `version` (default: the newest) with a zero-downtime deployment. */
  upgrade: (app: string, body: UpgradeRequest) => post<UpgradeResult>(`${a(app)}/upgrade`, body),
  /** What an upgrade would do, changing nothing (its components are named NAME@VERSION until built). */
  upgradePlan: (app: string, body: { env: string; version?: string }) =>
    post<{ plan: PlanView }>(`${a(app)}/upgrade`, { ...body, dryRun: true }).then((r) => r.plan),
  /** Rolls upgrade `upgrade` (default: the newest that went live) back to the release before it. */
  rollback: (app: string, body: UpgradeRollbackRequest) => post<UpgradeResult>(`${a(app)}/upgrades/rollback`, body),
};
