import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { isPostgres } from './dialect.js';

/** Migrations live in code so the compiled package carries them. Never edit one that shipped: add the next. */
const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('apps')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('environments')
        .addColumn('app', 'text', (c) => c.notNull().references('apps.name').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('proxy_port', 'integer', (c) => c.notNull().unique())
        .addColumn('active_release', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('environments_pk', ['app', 'name'])
        .execute();
      await db.schema
        .createTable('builds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app', 'text', (c) => c.notNull().references('apps.name').onDelete('cascade'))
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('source_sha256', 'text', (c) => c.notNull())
        // JSON: the components this build built, component → slug sha256, component → source hash
        .addColumn('components', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('artifacts', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('source_hashes', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('release', 'text')
        .addColumn('error', 'text')
        .addColumn('logs', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('builds_app_created').on('builds').columns(['app', 'created_at']).execute();
      await db.schema
        .createTable('configs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('vars', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('releases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app', 'text', (c) => c.notNull().references('apps.name').onDelete('cascade'))
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('builds', 'text', (c) => c.notNull())
        .addColumn('config_id', 'text', (c) => c.notNull().references('configs.id'))
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('releases_app_env_seq').unique().on('releases').columns(['app', 'env', 'seq']).execute();
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app', 'text', (c) => c.notNull().references('apps.name').onDelete('cascade'))
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('release', 'text', (c) => c.notNull())
        .addColumn('from_release', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('live', 'integer')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      // The lock: at most one pending/running deployment per app/env (NULLs don't collide).
      await db.schema.createIndex('deployments_lock').unique().on('deployments').columns(['app', 'env', 'live']).execute();
      await db.schema.createIndex('deployments_app_env_created').on('deployments').columns(['app', 'env', 'created_at']).execute();
      await db.schema
        .createTable('deployment_events')
        .addColumn('deployment', 'text', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_events_pk', ['deployment', 'seq'])
        .execute();
      await db.schema
        .createTable('audit')
        // SQLite's rowid alias; the same numbering on PostgreSQL is an identity column.
        .addColumn('id', 'integer', (c) => (isPostgres(db) ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('app', 'text')
        .addColumn('env', 'text')
        .addColumn('subject', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_app_at').on('audit').columns(['app', 'at']).execute();
      // Stable proxy ports of HTTP components other than the one on the environment's port.
      await db.schema
        .createTable('component_ports')
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('component', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull().unique())
        .addPrimaryKeyConstraint('component_ports_pk', ['app', 'env', 'component'])
        .execute();
      // Marks on releases in their environment (`rolled back`): releases themselves stay immutable.
      await db.schema
        .createTable('release_marks')
        .addColumn('release', 'text', (c) => c.notNull())
        .addColumn('mark', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text')
        .addPrimaryKeyConstraint('release_marks_pk', ['release', 'mark'])
        .execute();
      void sql;
    },
  },
  '0002_pipelines': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('pipelines')
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pipelines_pk', ['app', 'name'])
        .execute();
      await db.schema
        .createTable('pipeline_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('pipeline', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('build', 'text')
        .addColumn('stories', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('rollback_status', 'text', (c) => c.notNull())
        .addColumn('rollback_reason', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('pipeline_runs_app_created').on('pipeline_runs').columns(['app', 'created_at']).execute();
      await db.schema
        .createTable('pipeline_tasks')
        .addColumn('run', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('build', 'text')
        .addColumn('release', 'text')
        .addColumn('deployment', 'text')
        .addColumn('backup_release', 'text')
        .addColumn('rollback_status', 'text', (c) => c.notNull())
        .addColumn('rollback_deployment', 'text')
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('pipeline_tasks_pk', ['run', 'idx'])
        .execute();
      await db.schema
        .createTable('pipeline_logs')
        .addColumn('run', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('section', 'text', (c) => c.notNull())
        .addColumn('task', 'integer')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pipeline_logs_pk', ['run', 'seq'])
        .execute();
      await db.schema
        .createTable('run_stories')
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('story', 'text', (c) => c.notNull())
        .addColumn('run', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_stories_pk', ['app', 'story', 'run'])
        .execute();
    },
  },
  '0003_environment_settings': {
    async up(db: Kysely<any>) {
      // JSON: standby, automatic rollback and drain settings of one environment (see EnvSettings).
      await db.schema
        .alterTable('environments')
        .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
  },
  '0004_templates': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('template_versions')
        .addColumn('template', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('source_app', 'text', (c) => c.notNull())
        .addColumn('source_env', 'text', (c) => c.notNull())
        .addColumn('source_release', 'text', (c) => c.notNull())
        .addColumn('artifacts', 'text', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('template_versions_pk', ['template', 'version'])
        .execute();
      await db.schema.createIndex('template_versions_seq').unique().on('template_versions').columns(['template', 'seq']).execute();
      await db.schema
        .createTable('upgrades')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app', 'text', (c) => c.notNull().references('apps.name').onDelete('cascade'))
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('template', 'text', (c) => c.notNull())
        .addColumn('from_version', 'text')
        .addColumn('to_version', 'text', (c) => c.notNull())
        .addColumn('from_release', 'text')
        .addColumn('release', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('rolled_back_release', 'text')
        .addColumn('rolled_back_by', 'text')
        .addColumn('rolled_back_at', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upgrades_app_env').on('upgrades').columns(['app', 'env', 'created_at']).execute();
    },
  },
  '0005_build_uses': {
    async up(db: Kysely<any>) {
      // JSON: component → build id of the slug it runs, so a build that reused every component
      // (and made no release, as a pipeline's build does) still says which files are its own.
      await db.schema
        .alterTable('builds')
        .addColumn('uses', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
  },
  '0006_build_deploys': {
    async up(db: Kysely<any>) {
      // `rewind deploy`: a build asked to deploy its release, and the deployment it started (or why it could not).
      await db.schema
        .alterTable('builds')
        .addColumn('deploy', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('builds').addColumn('deployment', 'text').execute();
      await db.schema.alterTable('builds').addColumn('deploy_error', 'text').execute();
    },
  },
  '0007_targets': {
    async up(db: Kysely<any>) {
      // Where environments run (issue 12 item 3): `local` is no row, it always exists.
      await db.schema
        .createTable('targets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('docker_host', 'text', (c) => c.notNull())
        .addColumn('registry', 'text')
        // JSON: the edges' URLs (decision 0009); null: none
        .addColumn('edges', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .alterTable('environments')
        .addColumn('target', 'text', (c) => c.notNull().defaultTo('local'))
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
