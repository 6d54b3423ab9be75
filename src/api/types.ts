/**
 * Shapes of the HTTP API's JSON bodies, shared by the server, the CLI's client and the console.
 * Times are ISO-8601 strings.
 */

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export interface EnvironmentView {
  readonly app: string;
  readonly name: string;
  readonly position: number;
  readonly activeRelease: string | null;
  readonly proxyPort: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** healthy | unhealthy | empty | unknown (agent unreachable) | deploying */
  readonly health: string;
  readonly createdAt: string;
}

export interface AppView {
  readonly name: string;
  readonly createdAt: string;
  readonly environments: readonly EnvironmentView[];
}

export interface BuildView {
  readonly id: string;
  readonly app: string;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly description: string;
  readonly components: readonly string[];
  readonly sourceSha256: string;
  readonly artifactSha256: string | null;
  /** The release a succeeded build created (in the env it was uploaded for). */
  readonly release: string | null;
  readonly env: string;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface ReleaseView {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  /** The build of the `web` component (else the first component): the BUILD column. */
  readonly build: string | null;
  /** component name → build id */
  readonly builds: Readonly<Record<string, string>>;
  readonly kind: 'build' | 'env' | 'rollback' | 'promote' | 'revert' | 'backup' | 'upgrade';
  readonly description: string;
  /** `active` for the live one, '' otherwise. */
  readonly status: string;
  readonly config: Readonly<Record<string, string>>;
  readonly manifest: unknown;
  /** For rollbacks: the release that was copied. */
  readonly source: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export type DeploymentState = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled-back';

export interface DeploymentView {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly release: string;
  /** The release that was active when it started. */
  readonly fromRelease: string | null;
  readonly kind: 'deploy' | 'promote' | 'rollback' | 'config';
  readonly state: DeploymentState;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface DeploymentEventView {
  readonly seq: number;
  readonly at: string;
  readonly message: string;
}

/** Returned by promote, rollback and env changes: the release made (if any) and its deployment (if promoted). */
export interface ReleaseChange {
  readonly release: ReleaseView;
  readonly deployment: DeploymentView | null;
}

export interface ProcessView {
  readonly id: string;
  readonly component: string;
  readonly release: string;
  readonly build: string;
  readonly pid: number | null;
  readonly port: number | null;
  readonly state: string;
  readonly startedAt: string;
  readonly restarts: number;
  readonly rss: number | null;
}

export interface AuditEntryView {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly app: string | null;
  readonly env: string | null;
  readonly subject: string | null;
  readonly detail: unknown;
}
