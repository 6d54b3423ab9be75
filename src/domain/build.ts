import type { Manifest } from './manifest.js';
import type { BuildStatus } from './states.js';

/** One build of an app: the components it built, their slugs, and how it ended. */
export interface Build {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly status: BuildStatus;
  readonly description: string;
  readonly manifest: Manifest;
  readonly sourceSha256: string;
  /** The components this build built (the others of its release reuse earlier builds). */
  readonly components: readonly string[];
  /** component → slug sha256, once succeeded */
  readonly artifacts: Readonly<Record<string, string>>;
  /** component → content hash of its source folder and build spec */
  readonly sourceHashes: Readonly<Record<string, string>>;
  /**
   * component → the build whose slug it runs: this one for the components it built, the earlier
   * build for those it reused. Empty for builds recorded before it was kept (their release says).
   */
  readonly uses?: Readonly<Record<string, string>>;
  readonly release: string | null;
  readonly error: string | null;
  /** Deploy the release once built (`rewind deploy`): one operation on the server. */
  readonly deploy?: boolean;
  /** The deployment a `deploy` build started, once succeeded. */
  readonly deployment?: string | null;
  /** Why a succeeded `deploy` build's release was not deployed (the environment was busy, say). */
  readonly deployError?: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}
