/** The manifest's values: components and their settings, a reading of a source's manifest, and the manifest files in order. */
import type { HealthSpec } from './health.js';

export interface ComponentSpec {
  readonly name: string;
  /** Shell command line, run as ['/bin/sh', '-c', command] (see buildCommandArgv). Absent for static components. */
  readonly command?: string;
  /** Command run at build time in the component's folder. */
  readonly build?: string;
  /**
   * The component's source folder, relative to the source root (absent: the root). Its files alone
   * make the component's build and decide, by content hash, whether a deploy rebuilds it.
   */
  readonly path?: string;
  /** Folder (relative to the component's folder) served as files instead of a process. */
  readonly static?: string;
  /**
   * An image component: the container image it runs (`rewind-test/web:1.12`), as written; a build
   * records it pinned by digest. It has no command, build, path or static folder; only a Swarm
   * target runs images.
   */
  readonly image?: string;
  /** Serves HTTP on $PORT. */
  readonly port: boolean;
  readonly health: HealthSpec;
  readonly scale: number;
}

export interface Manifest {
  readonly components: Readonly<Record<string, ComponentSpec>>;
  /** Reserved for release pipelines; accepted as-is and not interpreted yet. */
  readonly pipelines?: unknown;
}

/** A manifest as read from a source, with what the build log should say about it. */
export interface ManifestReading {
  /** The file it was read from: rewind.yml, convox.yml or Procfile. */
  readonly file: ManifestFile;
  readonly manifest: Manifest;
  /** Lines for the build log: what was read differently, or not at all. */
  readonly notes: readonly string[];
  /** convox.yml `environment:` entries (KEY or KEY=default): reported, not applied. */
  readonly variables: readonly ManifestVariable[];
}

export interface ManifestVariable {
  readonly key: string;
  /** The default after `=`, if any. */
  readonly value?: string;
}

/** The manifests Rewind reads, in order of precedence. */
export const MANIFEST_FILES = ['rewind.yml', 'convox.yml', 'Procfile'] as const;
export type ManifestFile = (typeof MANIFEST_FILES)[number];
