/**
 * Slugs: each build's tar.gz extracted once into `slugs/<sha256>/`. Extraction goes to a temp dir
 * that is renamed into place, so a half-extracted slug is never used; unsafe paths refuse the archive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { join } from 'node:path';
import { slugPath } from './process-commands.js';

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

export class SlugCache {
  readonly #dataDir: string;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Removes temp dirs left by an extraction that a crash interrupted. */
  async cleanup(): Promise<void> {
    const dir = join(this.#dataDir, 'slugs');
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (name.startsWith('.tmp-')) await rm(join(dir, name), { recursive: true, force: true });
    }
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
    if (await exists(dest)) return dest;
    const actual = await sha256File(artifact.path).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`cannot read artifact ${artifact.path}: ${err.code ?? err.message}`);
    });
    if (actual !== artifact.sha256) {
      throw new Error(`artifact ${artifact.path} has sha256 ${actual}, expected ${artifact.sha256}`);
    }
    const tmp = join(this.#dataDir, 'slugs', `.tmp-${artifact.sha256.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp, { recursive: true });
    try {
      let refused: string | null = null;
      // Loaded on first use: an agent that restarts to re-adopt its instances serves sooner without it.
      const tar = await import('tar');
      await tar.x({
        file: artifact.path,
        cwd: tmp,
        strict: true,
        preservePaths: false,
        filter: (path, entry) => {
          const type = 'type' in entry ? entry.type : 'File';
          const linkpath = 'linkpath' in entry ? entry.linkpath : undefined;
          const reason = unsafeEntryReason(path, type, linkpath);
          if (reason && !refused) refused = reason;
          return reason === null;
        },
      });
      if (refused) throw new Error(`artifact ${artifact.sha256.slice(0, 12)} refused: ${refused}`);
      await rename(tmp, dest).catch(async (err: NodeJS.ErrnoException) => {
        // Another agent process may have won the race; its slug is as good as ours.
        if (!(await exists(dest))) throw err;
        await rm(tmp, { recursive: true, force: true });
      });
      return dest;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
