import type { Deployment } from '../domain/deployment.js';
import type { Release } from '../domain/release.js';
import type { AuditInput, AuditRepo } from './audit-repo.js';
import type { Db } from './db.js';
import type { DeploymentsRepo } from './deployments-repo.js';
import type { ReleasesRepo } from './releases-repo.js';

/**
 * One change to the record: a new release, the pending deployment that makes a release live, and
 * the audit entry that says who did it. What is given is written together or not at all.
 */
export interface Change {
  /** A new release, stored with the change. */
  readonly release?: Release;
  /**
   * A pending deployment. Its insert fails with a unique violation (`isUniqueViolation`) while
   * app/env has a live one (the unique index `deployments_lock` is the lock): nothing is then recorded.
   */
  readonly deployment?: Deployment;
  /** The change's audit entry; only a change nobody asked about by name (a design-mode release staged by a pipeline) has none. */
  readonly audit?: AuditInput;
  /** Runs first in the transaction (a plan's basis check): throwing records nothing. */
  readonly check?: (tx: Db) => Promise<void>;
  /** When the audit entry says it happened; by default the deployment's creation time, else the release's, else now. */
  readonly at?: string;
}

/** The repositories a change is written to (the `Store` has them). */
export interface ChangeRepos {
  readonly db: Db;
  readonly releases: Pick<ReleasesRepo, 'insert'>;
  readonly deployments: Pick<DeploymentsRepo, 'insert'>;
  readonly audit: Pick<AuditRepo, 'insert' | 'announce'>;
}

/**
 * The one place a change is written: its release, its deployment and its audit entry in one
 * transaction; the audit entry is announced to listeners (the live event stream) once it has committed.
 */
export async function recordChange(repos: ChangeRepos, change: Change): Promise<void> {
  const { release, deployment, audit, check } = change;
  const at = change.at ?? deployment?.createdAt ?? release?.createdAt ?? new Date().toISOString();
  await repos.db.transaction().execute(async (tx) => {
    await check?.(tx);
    if (release) await repos.releases.insert(release, tx);
    if (deployment) await repos.deployments.insert(deployment, tx);
    if (audit) await repos.audit.insert(audit, at, tx);
  });
  if (audit) repos.audit.announce(audit, at);
}
