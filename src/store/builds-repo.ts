import { newId } from '../domain/ids.js';
import type { Manifest } from '../domain/manifest.js';
import type { Db } from './db.js';
import type { BuildsTable } from './schema.js';
import type { Build } from '../domain/build.js';

export type { Build };

/**
 * A build made of slugs that already exist (a backup of live files, a template version): it ran
 * nothing, and succeeded when it was made.
 */
export function prebuiltBuild(o: {
  app: string;
  env: string;
  description: string;
  manifest: Manifest;
  artifacts: Readonly<Record<string, string>>;
  actor: string;
}): Build {
  const components = Object.keys(o.artifacts);
  const now = new Date().toISOString();
  const id = newId('B');
  return {
    id,
    app: o.app,
    env: o.env,
    status: 'succeeded',
    description: o.description,
    manifest: o.manifest,
    sourceSha256: o.artifacts[components[0] as string] ?? '',
    components,
    artifacts: o.artifacts,
    sourceHashes: {},
    uses: Object.fromEntries(components.map((c) => [c, id])),
    release: null,
    error: null,
    createdBy: o.actor,
    createdAt: now,
    finishedAt: now,
  };
}

/**
 * Which build's slug each component of `b` runs: what it recorded, else (builds from before that
 * was kept) its release's builds, else its own components.
 */
export function usesOf(b: Build, release?: { readonly builds: Readonly<Record<string, string>> }): Readonly<Record<string, string>> {
  if (b.uses && Object.keys(b.uses).length > 0) return b.uses;
  return release?.builds ?? Object.fromEntries(b.components.map((c) => [c, b.id]));
}

const toBuild = (r: Omit<BuildsTable, 'logs'>): Build => ({
  id: r.id,
  app: r.app,
  env: r.env,
  status: r.status,
  description: r.description,
  manifest: JSON.parse(r.manifest) as Manifest,
  sourceSha256: r.source_sha256,
  components: JSON.parse(r.components) as string[],
  artifacts: JSON.parse(r.artifacts) as Record<string, string>,
  sourceHashes: JSON.parse(r.source_hashes) as Record<string, string>,
  uses: JSON.parse(r.uses) as Record<string, string>,
  release: r.release,
  error: r.error,
  deploy: r.deploy === 1,
  deployment: r.deployment,
  deployError: r.deploy_error,
  createdBy: r.created_by,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

const COLUMNS = [
  'id',
  'app',
  'env',
  'status',
  'description',
  'manifest',
  'source_sha256',
  'components',
  'artifacts',
  'source_hashes',
  'uses',
  'release',
  'error',
  'deploy',
  'deployment',
  'deploy_error',
  'created_by',
  'created_at',
  'finished_at',
] as const;

/** Builds: created running, finished once (succeeded with an artifact, or failed with an error). */
export class BuildsRepo {
  constructor(private readonly db: Db) {}

  async insert(b: Build): Promise<void> {
    await this.db
      .insertInto('builds')
      .values({
        id: b.id,
        app: b.app,
        env: b.env,
        status: b.status,
        description: b.description,
        manifest: JSON.stringify(b.manifest),
        source_sha256: b.sourceSha256,
        components: JSON.stringify(b.components),
        artifacts: JSON.stringify(b.artifacts),
        source_hashes: JSON.stringify(b.sourceHashes),
        uses: JSON.stringify(b.uses ?? {}),
        release: b.release,
        error: b.error,
        deploy: b.deploy ? 1 : 0,
        deployment: null,
        deploy_error: null,
        logs: '',
        created_by: b.createdBy,
        created_at: b.createdAt,
        finished_at: b.finishedAt,
      })
      .execute();
  }

  async get(app: string, id: string): Promise<Build | undefined> {
    const r = await this.db.selectFrom('builds').select(COLUMNS).where('app', '=', app).where('id', '=', id).executeTakeFirst();
    return r && toBuild(r);
  }

  async byId(id: string): Promise<Build | undefined> {
    const r = await this.db.selectFrom('builds').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return r && toBuild(r);
  }

  async list(app: string, limit = 20): Promise<Build[]> {
    const rows = await this.db.selectFrom('builds').select(COLUMNS).where('app', '=', app).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toBuild);
  }

  /** Builds that built `component`, newest first: its version history. */
  async ofComponent(app: string, component: string, limit = 20): Promise<Build[]> {
    const rows = await this.db
      .selectFrom('builds')
      .select(COLUMNS)
      .where('app', '=', app)
      .where('components', 'like', `%${JSON.stringify(component)}%`)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit * 4)
      .execute();
    return rows
      .map(toBuild)
      .filter((b) => b.components.includes(component))
      .slice(0, limit);
  }

  /** The newest succeeded build whose `component` had this source hash: a deploy reuses it instead of building again. */
  async reusable(app: string, component: string, sourceHash: string): Promise<Build | undefined> {
    const rows = await this.db
      .selectFrom('builds')
      .select(COLUMNS)
      .where('app', '=', app)
      .where('status', '=', 'succeeded')
      .where('source_hashes', 'like', `%${sourceHash}%`)
      .orderBy('created_at', 'desc')
      .limit(10)
      .execute();
    return rows.map(toBuild).find((b) => b.sourceHashes[component] === sourceHash && b.artifacts[component]);
  }

  /** Every build id of an app (to remove their log files with it). */
  async idsOf(app: string): Promise<string[]> {
    return (await this.db.selectFrom('builds').select('id').where('app', '=', app).execute()).map((r) => r.id);
  }

  async listRunning(): Promise<Build[]> {
    const rows = await this.db.selectFrom('builds').select(COLUMNS).where('status', '=', 'running').execute();
    return rows.map(toBuild);
  }

  async logs(id: string): Promise<string> {
    const r = await this.db.selectFrom('builds').select('logs').where('id', '=', id).executeTakeFirst();
    return r?.logs ?? '';
  }

  /** A running build's slugs, before it finishes: what a deployment it starts itself reads (`rewind deploy`). */
  async storeSlugs(id: string, artifacts: Record<string, string>, uses: Record<string, string>): Promise<void> {
    await this.db
      .updateTable('builds')
      .set({ artifacts: JSON.stringify(artifacts), uses: JSON.stringify(uses) })
      .where('id', '=', id)
      .execute();
  }

  async finish(
    id: string,
    result: {
      status: 'succeeded' | 'failed';
      artifacts?: Record<string, string>;
      uses?: Record<string, string>;
      release?: string | null;
      error?: string | null;
      deployment?: string | null;
      deployError?: string | null;
      logs: string;
    },
    now: string,
  ): Promise<void> {
    await this.db
      .updateTable('builds')
      .set({
        status: result.status,
        artifacts: JSON.stringify(result.artifacts ?? {}),
        ...(result.uses ? { uses: JSON.stringify(result.uses) } : {}),
        release: result.release ?? null,
        error: result.error ?? null,
        deployment: result.deployment ?? null,
        deploy_error: result.deployError ?? null,
        logs: result.logs,
        finished_at: now,
      })
      .where('id', '=', id)
      .execute();
  }
}
