import type { Generated } from 'kysely';

/** Table shapes. Times are ISO-8601 text; JSON is stored as text. */
export interface Database {
  apps: AppsTable;
  environments: EnvironmentsTable;
  builds: BuildsTable;
  configs: ConfigsTable;
  releases: ReleasesTable;
  deployments: DeploymentsTable;
  deployment_events: DeploymentEventsTable;
  audit: AuditTable;
  component_ports: ComponentPortsTable;
  release_marks: ReleaseMarksTable;
  pipelines: PipelinesTable;
  pipeline_runs: PipelineRunsTable;
  pipeline_tasks: PipelineTasksTable;
  pipeline_logs: PipelineLogsTable;
  run_stories: RunStoriesTable;
  template_versions: TemplateVersionsTable;
  upgrades: UpgradesTable;
  targets: TargetsTable;
}

export interface TargetsTable {
  name: string;
  /** swarm */
  kind: string;
  docker_host: string;
  registry: string | null;
  /** JSON string[] of the edges' URLs, or null */
  edges: string | null;
  created_by: string;
  created_at: string;
}

export interface PipelinesTable {
  app: string;
  name: string;
  /** JSON PipelineDef */
  definition: string;
  /** manifest | api */
  source: string;
  updated_at: string;
}

export interface PipelineRunsTable {
  id: string;
  app: string;
  pipeline: string;
  definition: string;
  status: string;
  build: string | null;
  stories: string;
  error: string | null;
  rollback_status: string;
  rollback_reason: string | null;
  created_by: string;
  created_at: string;
  finished_at: string | null;
}

export interface PipelineTasksTable {
  run: string;
  idx: number;
  kind: string;
  name: string;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  build: string | null;
  release: string | null;
  deployment: string | null;
  backup_release: string | null;
  rollback_status: string;
  rollback_deployment: string | null;
  error: string | null;
}

export interface PipelineLogsTable {
  run: string;
  seq: number;
  section: string;
  task: number | null;
  at: string;
  message: string;
}

export interface RunStoriesTable {
  app: string;
  story: string;
  run: string;
}

/**
 * A version of an app template (Rainbond's shared library): a release's components, frozen — the
 * slugs by sha256 (artifacts are never deleted), its manifest and config — so that it outlives
 * the app it was published from.
 */
export interface TemplateVersionsTable {
  template: string;
  version: string;
  /** Publication order within the template: the newest is the one upgrades go to. */
  seq: number;
  source_app: string;
  source_env: string;
  source_release: string;
  /** JSON: component → slug sha256 */
  artifacts: string;
  /** JSON: the release's manifest */
  manifest: string;
  /** JSON: the release's config */
  config: string;
  note: string;
  created_by: string;
  created_at: string;
}

/** An install or upgrade of an app/env from a template version, and its one-click rollback. */
export interface UpgradesTable {
  id: string;
  app: string;
  env: string;
  template: string;
  /** null: an install (nothing of the template ran there before). */
  from_version: string | null;
  to_version: string;
  /** The active release before the upgrade: what its rollback goes back to. */
  from_release: string | null;
  release: string;
  deployment: string;
  rolled_back_release: string | null;
  rolled_back_by: string | null;
  rolled_back_at: string | null;
  created_by: string;
  created_at: string;
}

export interface ComponentPortsTable {
  app: string;
  env: string;
  component: string;
  port: number;
}

export interface ReleaseMarksTable {
  release: string;
  mark: string;
  at: string;
  actor: string;
  deployment: string | null;
}

export interface AppsTable {
  name: string;
  created_at: string;
}

export interface EnvironmentsTable {
  app: string;
  name: string;
  position: number;
  proxy_port: number;
  active_release: string | null;
  created_at: string;
  settings: Generated<string>;
  /** The target's name; `local` (the default) is no row of targets */
  target: Generated<string>;
}

export interface BuildsTable {
  id: string;
  app: string;
  env: string;
  status: 'running' | 'succeeded' | 'failed';
  description: string;
  /** JSON: normalized manifest */
  manifest: string;
  source_sha256: string;
  components: string;
  artifacts: string;
  source_hashes: string;
  /** JSON: component → the build whose slug it runs (this one, or the earlier one it reused) */
  uses: string;
  release: string | null;
  error: string | null;
  /** 1: deploy the release once built (`rewind deploy`) */
  deploy: number;
  /** the deployment a `deploy` build started */
  deployment: string | null;
  /** why a `deploy` build's release was not deployed */
  deploy_error: string | null;
  logs: string;
  created_by: string;
  created_at: string;
  finished_at: string | null;
}

/** Config snapshots, content-addressed so that releases sharing a config share a row. */
export interface ConfigsTable {
  id: string;
  /** JSON object, sorted keys */
  vars: string;
}

export interface ReleasesTable {
  id: string;
  app: string;
  env: string;
  /** Order within app/env, 1-based. */
  seq: number;
  kind: string;
  /** JSON: component name → build id */
  builds: string;
  config_id: string;
  /** JSON: normalized manifest */
  manifest: string;
  description: string;
  source: string | null;
  created_by: string;
  created_at: string;
}

export interface DeploymentsTable {
  id: string;
  app: string;
  env: string;
  release: string;
  from_release: string | null;
  kind: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled-back';
  /** 1 while pending/running: a unique index on (app, env, live) makes it the app/env lock. */
  live: number | null;
  error: string | null;
  created_by: string;
  created_at: string;
  finished_at: string | null;
}

export interface DeploymentEventsTable {
  deployment: string;
  seq: number;
  at: string;
  message: string;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  app: string | null;
  env: string | null;
  subject: string | null;
  detail: string | null;
}
