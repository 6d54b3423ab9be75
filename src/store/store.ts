import { AppsRepo } from './apps-repo.js';
import { type AuditInput, AuditRepo } from './audit-repo.js';
import { BuildsRepo } from './builds-repo.js';
import { redactedUrl } from '../domain/urls.js';
import { type Db, openPostgres, openSqlite } from './db.js';
import { DeploymentsRepo } from './deployments-repo.js';
import { PipelinesRepo } from './pipelines-repo.js';
import { type Change, recordChange } from './record-change.js';
import { TemplatesRepo } from './templates-repo.js';
import { ReleasesRepo } from './releases-repo.js';
import { TargetsRepo } from './targets-repo.js';

/** All repositories over one database. */
export class Store {
  readonly apps: AppsRepo;
  readonly builds: BuildsRepo;
  readonly releases: ReleasesRepo;
  readonly deployments: DeploymentsRepo;
  readonly audit: AuditRepo;
  readonly pipelines: PipelinesRepo;
  readonly templates: TemplatesRepo;
  readonly targets: TargetsRepo;

  constructor(readonly db: Db) {
    this.apps = new AppsRepo(db);
    this.builds = new BuildsRepo(db);
    this.releases = new ReleasesRepo(db);
    this.deployments = new DeploymentsRepo(db);
    this.audit = new AuditRepo(db);
    this.pipelines = new PipelinesRepo(db);
    this.templates = new TemplatesRepo(db);
    this.targets = new TargetsRepo(db);
  }

  /** Writes a change (its release, pending deployment and audit entry) in one transaction: see `recordChange`. */
  recordChange(change: Change): Promise<void> {
    return recordChange(this, change);
  }

  /** Writes an audit entry for a change that has no release or deployment of its own (an app created, a deployment finished). */
  recordAudit(audit: AuditInput, at?: string): Promise<void> {
    return recordChange(this, { audit, at });
  }

  static async openSqlite(dataDir: string): Promise<Store> {
    return new Store(await openSqlite(dataDir));
  }

  /** The store in PostgreSQL at `url`; a server that cannot reach it says where it looked (never the password). */
  static async openPostgres(url: string): Promise<Store> {
    try {
      return new Store(await openPostgres(url));
    } catch (e) {
      throw new Error(`cannot open the PostgreSQL store at ${redactedUrl(url)}: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

export { redactedUrl };
