import type { Config } from './config.js';
import type { Manifest } from './manifest.js';
import { newId } from './ids.js';

export type ReleaseKind = 'build' | 'env' | 'rollback' | 'promote' | 'revert' | 'backup' | 'upgrade';

/** An immutable snapshot of one app in one environment: builds per component, config and manifest. */
export interface Release {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly kind: ReleaseKind;
  /** component name → build id */
  readonly builds: Readonly<Record<string, string>>;
  readonly config: Config;
  /** Null for a config-only release made before any build. */
  readonly manifest: Manifest | null;
  readonly description: string;
  /** For a rollback: the release it copies. */
  readonly source: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export type NewRelease = Omit<Release, 'id' | 'createdAt'>;

/** The only way a Release value comes to be: frozen, with a fresh id. */
export function makeRelease(input: NewRelease, now = new Date()): Release {
  return Object.freeze({
    ...input,
    id: newId('R'),
    builds: Object.freeze({ ...input.builds }),
    createdAt: now.toISOString(),
  });
}

/** Convox's rollback: a new release copying `target`'s builds, config and manifest. `target` itself is untouched. */
export function rollbackCopy(target: Release, actor: string): Release {
  return makeRelease({
    app: target.app,
    env: target.env,
    kind: 'rollback',
    builds: target.builds,
    config: target.config,
    manifest: target.manifest,
    description: `rollback to ${target.id}`,
    source: target.id,
    createdBy: actor,
  });
}

/** The build shown in the BUILD column: `web`'s, else the first component's. */
export function primaryBuild(release: Pick<Release, 'builds'>): string | null {
  return release.builds.web ?? Object.values(release.builds)[0] ?? null;
}

export const isRunnable = (release: Release): boolean => release.manifest !== null && Object.keys(release.builds).length > 0;
