/**
 * Slugs: each build's tar.gz extracted once into `slugs/<sha256>/`, with a manifest of its files'
 * hashes beside it (`slugs/<sha256>.files.json`). Extraction goes to a temp dir that is renamed into
 * place, so a half-extracted slug is never used; unsafe paths refuse the archive. Nothing runs in a
 * slug: instances run in working copies made from it (workCopy, work-copy.ts), checked against the
 * manifest; a slug found edited is set aside and extracted again. Only files of the artifact store
 * are read (artifact-policy.ts), and the work stops when the agent closes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { chmod, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, posix } from 'node:path';
import { join } from 'node:path';
import type { ArtifactPolicy } from './artifact-policy.js';
import { DEFAULT_MAX_ARTIFACT_MB, openArtifact } from './artifact-policy.js';
import { slugPath } from './process-commands.js';
import type { SlugEntry } from './work-copy.js';
import { SlugDrift, buildManifest, copyVerified, forceRemove } from './work-copy.js';

/** What one slug may unpack to: bytes and entries (a small archive can expand a thousandfold). */
export const MAX_SLUG_BYTES = 16 * 1024 ** 3;
export const MAX_SLUG_ENTRIES = 500_000;
/** Unpacked modes keep no setuid, setgid or sticky bit and no group or world write. */
const MODE_MASK = 0o755;

const SHA256 = /^[a-f0-9]{64}$/;
const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Why an archive entry may not be extracted, or null when it is safe. */
export function unsafeEntryReason(path: string, type: string, linkpath?: string): string | null {
  if (!ALLOWED_TYPES.has(type)) return `entry ${path} has unsupported type ${type}`;
  if (escapes(path)) return `entry ${path} points outside the slug`;
  if ((type === 'SymbolicLink' || type === 'Link') && linkpath !== undefined) {
    const target = type === 'Link' ? linkpath : posix.join(posix.dirname(path), linkpath);
    if (posix.isAbsolute(linkpath) || escapes(target)) return `link ${path} -> ${linkpath} points outside the slug`;
  }
  return null;
}

function escapes(path: string): boolean {
  if (path.includes('\0') || posix.isAbsolute(path) || /^[A-Za-z]:/.test(path)) return true;
  const normal = posix.normalize(path);
  return normal === '..' || normal.startsWith('../');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const aborted = () => Object.assign(new Error('the agent is shutting down'), { code: 'ABORTED' });

/** The sha256 of the first `size` bytes of `file`; stops (rejects) when `signal` aborts. */
async function sha256Of(file: FileHandle, size: number, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  if (size > 0) {
    for await (const chunk of file.createReadStream({ start: 0, end: size - 1, autoClose: false, highWaterMark: 1024 * 1024 })) {
      if (signal.aborted) throw aborted();
      hash.update(chunk as Buffer);
    }
  }
  return hash.digest('hex');
}

export interface SlugCacheOptions {
  /** The artifact store; default `<dataDir>/../artifacts` (the agent dir's sibling in the Rewind data dir). */
  readonly artifactRoot?: string;
  /** Default DEFAULT_MAX_ARTIFACT_MB MiB. */
  readonly maxArtifactBytes?: number;
}

export class SlugCache {
  readonly #dataDir: string;
  readonly #pending = new Map<string, Promise<string>>();
  readonly #manifests = new Map<string, Promise<readonly SlugEntry[]>>();
  readonly #closed = new AbortController();
  /** Which artifact paths the agent reads. */
  readonly policy: ArtifactPolicy;

  constructor(dataDir: string, options: SlugCacheOptions = {}) {
    this.#dataDir = dataDir;
    this.policy = {
      root: options.artifactRoot ?? join(dirname(dataDir), 'artifacts'),
      maxBytes: options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_MB * 1024 * 1024,
    };
  }

  /** Stops every hash and extraction in progress (they reject); the agent is closing. */
  close(): void {
    this.#closed.abort();
  }

  /** Removes temp dirs left by an extraction that a crash interrupted, and slugs set aside as edited. */
  async cleanup(): Promise<void> {
    const dir = join(this.#dataDir, 'slugs');
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (name.startsWith('.tmp-') || name.startsWith('.stale-')) await forceRemove(join(dir, name));
    }
  }

  /**
   * Makes `dest` a fresh copy of the artifact's files (whatever was there is removed), checked
   * against the slug's manifest. A slug that differs from it is extracted again from the artifact
   * (whose sha256 is checked): `repaired` then says what was found changed.
   */
  async workCopy(artifact: { readonly sha256: string; readonly path: string }, dest: string): Promise<{ dir: string; repaired: string | null }> {
    let repaired: string | null = null;
    for (;;) {
      const slug = await this.ensure(artifact);
      const entries = await this.#manifest(artifact.sha256);
      await forceRemove(dest);
      await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
      try {
        await copyVerified(slug, entries, dest);
        return { dir: dest, repaired };
      } catch (err) {
        await forceRemove(dest);
        if (!(err instanceof SlugDrift) || repaired !== null) throw err;
        repaired = err.message;
        await this.#setAside(artifact.sha256);
      }
    }
  }

  #manifest(sha256: string): Promise<readonly SlugEntry[]> {
    let manifest = this.#manifests.get(sha256);
    if (!manifest) {
      manifest = readFile(manifestPath(this.#dataDir, sha256), 'utf8').then((text) => JSON.parse(text) as SlugEntry[]);
      manifest.catch(() => this.#manifests.delete(sha256));
      this.#manifests.set(sha256, manifest);
    }
    return manifest;
  }

  /**
   * Moves an edited (or manifest-less) slug out of the way; the next ensure() extracts it again. A
   * rename, not a removal: a process an older agent started in the slug keeps its folder until the
   * next agent start.
   */
  async #setAside(sha256: string): Promise<void> {
    this.#manifests.delete(sha256);
    const dest = slugPath(this.#dataDir, sha256);
    await rm(manifestPath(this.#dataDir, sha256), { force: true });
    await rename(dest, join(this.#dataDir, 'slugs', `.stale-${sha256.slice(0, 12)}-${randomBytes(4).toString('hex')}`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** The slug dir of an artifact, extracting it first if needed (concurrent callers share one extraction). */
  ensure(artifact: { readonly sha256: string; readonly path: string }): Promise<string> {
    if (!SHA256.test(artifact.sha256)) return Promise.reject(new Error(`invalid artifact sha256 "${artifact.sha256}"`));
    let pending = this.#pending.get(artifact.sha256);
    if (!pending) {
      pending = this.#extract(artifact).finally(() => this.#pending.delete(artifact.sha256));
      this.#pending.set(artifact.sha256, pending);
    }
    return pending;
  }

  async #extract(artifact: { readonly sha256: string; readonly path: string }): Promise<string> {
    const dest = slugPath(this.#dataDir, artifact.sha256);
    if (await exists(dest)) {
      if (await exists(manifestPath(this.#dataDir, artifact.sha256))) return dest;
      // Unpacked by an older agent (no manifest), or a crash came between the two renames below.
      await this.#setAside(artifact.sha256);
    }
    const signal = this.#closed.signal;
    if (signal.aborted) throw aborted();
    const { file, size } = await openArtifact(artifact.path, this.policy).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code ? `cannot read artifact ${artifact.path}: ${err.code}` : err.message);
    });
    try {
      const actual = await sha256Of(file, size, signal).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ABORTED' ? err : new Error(`cannot read artifact ${artifact.path}: ${err.code ?? err.message}`);
      });
      if (actual !== artifact.sha256) {
        throw new Error(`artifact ${artifact.path} has sha256 ${actual}, expected ${artifact.sha256}`);
      }
      return await this.#unpack(artifact.sha256, file, size, dest, signal);
    } finally {
      await file.close();
    }
  }

  /** Unpacks the (verified) open file into a temp dir, then renames it into place. */
  async #unpack(sha256: string, file: FileHandle, size: number, dest: string, signal: AbortSignal): Promise<string> {
    const tmp = join(this.#dataDir, 'slugs', `.tmp-${sha256.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp, { recursive: true, mode: 0o755 });
    try {
      let refused: string | null = null;
      let bytes = 0;
      let entries = 0;
      // Loaded on first use: an agent that restarts to re-adopt its instances serves sooner without it.
      const tar = await import('tar');
      const unpack = tar.x({
        cwd: tmp,
        strict: true,
        preservePaths: false,
        filter: (path, entry) => {
          const type = 'type' in entry ? entry.type : 'File';
          const linkpath = 'linkpath' in entry ? entry.linkpath : undefined;
          bytes += entry.size ?? 0;
          entries++;
          const reason =
            unsafeEntryReason(path, type, linkpath) ??
            (bytes > MAX_SLUG_BYTES
              ? `it unpacks to more than ${MAX_SLUG_BYTES} bytes`
              : entries > MAX_SLUG_ENTRIES
                ? `it has more than ${MAX_SLUG_ENTRIES} entries`
                : null);
          if (reason && !refused) refused = reason;
          if (typeof entry.mode === 'number') (entry as { mode: number }).mode = entry.mode & MODE_MASK;
          return reason === null && !signal.aborted;
        },
      });
      await new Promise<void>((resolve, reject) => {
        const source = file.createReadStream({ start: 0, end: Math.max(0, size - 1), autoClose: false, highWaterMark: 1024 * 1024 });
        const stop = () => {
          source.destroy();
          reject(aborted());
        };
        signal.addEventListener('abort', stop, { once: true });
        const settle = (fn: () => void) => {
          signal.removeEventListener('abort', stop);
          fn();
        };
        unpack.on('error', (err: Error) => settle(() => reject(err)));
        unpack.on('close', () => settle(resolve));
        source.on('error', (err) => settle(() => reject(err)));
        if (size === 0) unpack.end();
        else source.pipe(unpack);
      });
      if (signal.aborted) throw aborted();
      if (refused) throw new Error(`artifact ${sha256.slice(0, 12)} refused: ${refused}`);
      await chmod(tmp, 0o755);
      const manifest = `${tmp}.files.json`;
      await writeFile(manifest, JSON.stringify(await buildManifest(tmp)), { mode: 0o600 });
      let won = true;
      await rename(tmp, dest).catch(async (err: NodeJS.ErrnoException) => {
        // Another agent process may have won the race; its slug is as good as ours.
        if (!(await exists(dest))) throw err;
        won = false;
        await forceRemove(tmp);
      });
      if (won) await rename(manifest, manifestPath(this.#dataDir, sha256));
      else await rm(manifest, { force: true });
      return dest;
    } catch (err) {
      await forceRemove(tmp);
      await rm(`${tmp}.files.json`, { force: true });
      throw err;
    }
  }
}

function manifestPath(dataDir: string, sha256: string): string {
  return `${slugPath(dataDir, sha256)}.files.json`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
