/**
 * What the builder needs from the rest of the control plane, declared here so that the builder
 * depends on the domain only: the engine supplies these (the artifact store, safe extraction,
 * slug packing and source hashing of `artifacts/`, the store's repos, its event hub).
 */
import type { Readable } from 'node:stream';
import type { AuditInput } from '../domain/audit.js';
import type { Build } from '../domain/build.js';
import type { Release } from '../domain/release.js';

/** A file kept by content: its sha256 and size. */
export interface StoredFile {
  readonly sha256: string;
  readonly size: number;
}

/** An upload received to a temp file (pass tmpPath to putFile, or remove it). */
export interface ReceivedFile extends StoredFile {
  readonly tmpPath: string;
}

/** Where uploads and slugs are kept, and how source trees are unpacked, packed and hashed. */
export interface BuildArtifacts {
  receive(stream: Readable, opts: { readonly maxBytes: number; readonly declaredBytes?: number }): Promise<ReceivedFile>;
  /** Moves a finished temp file into the store. */
  putFile(tmpPath: string): Promise<StoredFile>;
  /** Unpacks an uploaded gzip tarball into destDir, refusing unsafe archives (paths, links, size limits). */
  unpack(tarGzPath: string, destDir: string): Promise<void>;
  /** Packs a built component's directory into a reproducible slug tarball at outPath. */
  pack(dir: string, outPath: string): Promise<void>;
  /** The content hash of a source tree (what a build is reused by). */
  hashTree(dir: string): Promise<string>;
}

/** How a finished build is recorded (its logs are written separately). */
export interface BuildResult {
  readonly status: 'succeeded' | 'failed';
  readonly artifacts?: Record<string, string>;
  readonly uses?: Record<string, string>;
  readonly release?: string | null;
  readonly error?: string | null;
  readonly deployment?: string | null;
  readonly deployError?: string | null;
}

/** The records the builder reads and writes: apps and environments exist, build rows, releases, the audit log. */
export interface BuildRecords {
  readonly apps: {
    get(name: string): Promise<unknown>;
    environment(app: string, env: string): Promise<unknown>;
  };
  readonly builds: {
    insert(build: Build): Promise<void>;
    logs(id: string): Promise<string>;
    listRunning(): Promise<Build[]>;
    storeSlugs(id: string, artifacts: Record<string, string>, uses: Record<string, string>): Promise<void>;
    finish(id: string, result: BuildResult & { readonly logs: string }, now: string): Promise<void>;
    reusable(app: string, component: string, sourceHash: string): Promise<Build | undefined>;
  };
  readonly releases: {
    current(app: string, env: string): Promise<Release | undefined>;
    newest(app: string, env: string): Promise<Release | undefined>;
  };
  /** Writes a new release and its audit entry in one transaction (the store's `recordChange`). */
  recordChange(change: { readonly release: Release; readonly audit: AuditInput }): Promise<void>;
  /** Writes an audit entry of its own (the store's `recordAudit`). */
  recordAudit(entry: AuditInput): Promise<void>;
}

/** Live build output lines, keyed by build id; end(id) when the build is over. */
export interface BuildOutput {
  publish(buildId: string, text: string): void;
  end(buildId: string): void;
}

/** An image reference pinned where the environment runs: `pinned` is what a release runs (`repo@sha256:…` or an image id), `digest` its sha256. */
export interface PinnedImage {
  readonly pinned: string;
  readonly digest: string;
}

/**
 * Pins image component `component`'s reference for app/env (the engine asks the environment's target);
 * throws a one-line RewindError when the target runs no images or does not have it.
 */
export type ResolveImage = (app: string, env: string, ref: string, component: string) => Promise<PinnedImage>;
