/**
 * What has happened, read only: releases (with their marks and whether each is active), builds,
 * deployments and their steps, pipeline definitions, runs, logs and stories, and the audit log.
 * The API's read routes ask here, so they never reach into the store.
 */
import { notFound } from '../domain/errors.js';
import type { Release } from '../domain/release.js';
import type { Store } from '../store/store.js';
import type { AppOps } from './app-ops.js';

/** A release with the release its environment runs now (null: none) and its marks. */
export interface ReleaseWithState {
  readonly release: Release;
  readonly active: string | null;
  readonly marks: readonly string[];
}

export class History {
  constructor(
    private readonly store: Store,
    private readonly apps: AppOps,
  ) {}

  /** Releases of app/env, newest first. */
  async releases(app: string, env: string, limit?: number): Promise<ReleaseWithState[]> {
    await this.apps.requireEnv(app, env);
    return this.withState(await this.store.releases.list(app, env, limit));
  }

  /** Each release with the release its environment runs now and its marks (rolled back to, reverted, …). */
  async withState(releases: readonly Release[]): Promise<ReleaseWithState[]> {
    const marks = await this.store.releases.marks(releases.map((r) => r.id));
    const active = new Map<string, string | null>();
    for (const r of releases) {
      const key = `${r.app}/${r.env}`;
      if (!active.has(key)) active.set(key, (await this.store.apps.environment(r.app, r.env))?.activeRelease ?? null);
    }
    return releases.map((r) => ({ release: r, active: active.get(`${r.app}/${r.env}`) ?? null, marks: marks.get(r.id) ?? [] }));
  }

  /** Builds of an app (of one component only, when given), newest first. */
  async builds(app: string, o: { component?: string; limit?: number }) {
    await this.apps.requireApp(app);
    return o.component ? this.store.builds.ofComponent(app, o.component, o.limit) : this.store.builds.list(app, o.limit);
  }

  /** Deployments of app/env, newest first. */
  async deployments(app: string, env: string, limit?: number) {
    await this.apps.requireEnv(app, env);
    return this.store.deployments.list(app, env, limit);
  }

  async deployment(id: string) {
    const d = await this.store.deployments.get(id);
    if (!d) throw notFound.deployment(id);
    return d;
  }

  /** A deployment's steps so far. */
  deploymentSteps(id: string) {
    return this.store.deployments.events(id);
  }

  async pipelines(app: string) {
    await this.apps.requireApp(app);
    return this.store.pipelines.definitions(app);
  }

  /** An app's pipeline runs, newest first (of one story only, when given). */
  async pipelineRuns(app: string, o: { story?: string; limit?: number }) {
    await this.apps.requireApp(app);
    return this.store.pipelines.runs(app, o);
  }

  /** A run's log lines (run and rollback sections). */
  runLogs(id: string) {
    return this.store.pipelines.logs(id);
  }

  /** Work-item ids seen on an app's runs. */
  async stories(app: string) {
    await this.apps.requireApp(app);
    return this.store.pipelines.stories(app);
  }

  /** The audit log, newest first. */
  audit(o: { app?: string; limit?: number }) {
    return this.store.audit.list(o);
  }

  /** Calls back with every audit entry once it is committed; returns how to stop. */
  onAudit(listener: Parameters<Store['audit']['onRecord']>[0]): () => void {
    return this.store.audit.onRecord(listener);
  }
}
