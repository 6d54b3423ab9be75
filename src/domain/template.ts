import type { Config } from './config.js';

/** One published version of an app template (never replaced). */
export interface TemplateVersion {
  readonly template: string;
  readonly version: string;
  readonly seq: number;
  readonly sourceApp: string;
  readonly sourceEnv: string;
  readonly sourceRelease: string;
  /** component → slug sha256 */
  readonly artifacts: Readonly<Record<string, string>>;
  readonly manifest: unknown;
  readonly config: Config;
  readonly note: string;
  readonly createdBy: string;
  readonly createdAt: string;
}

/** An install (fromVersion null) or upgrade of an app/env to a template version. */
export interface Upgrade {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly template: string;
  readonly fromVersion: string | null;
  readonly toVersion: string;
  readonly fromRelease: string | null;
  readonly release: string;
  readonly deployment: string;
  readonly rolledBackRelease: string | null;
  readonly rolledBackBy: string | null;
  readonly rolledBackAt: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}
