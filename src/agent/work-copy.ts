/**
 * Working copies: every instance runs in its own copy of its build's files, made at each start
 * from the pristine slug and checked, file by file, against the slug's manifest of hashes (taken
 * when the artifact was unpacked). What an app writes in its folder, or what someone edits there,
 * stays in that one instance and is gone at its next start; a drifted slug is never copied.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readdir, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export interface SlugEntry {
  /** Relative to the slug's root, POSIX separators; '' is the root itself. */
  readonly path: string;
  readonly type: 'dir' | 'file' | 'symlink';
  readonly mode: number;
  readonly size?: number;
  readonly sha256?: string;
  readonly mtimeMs?: number;
  readonly target?: string;
}

/** A slug's files differ from its manifest: someone edited the unpacked copy. */
export class SlugDrift extends Error {}

/** Files above this size are hashed and copied as streams rather than read whole. */
const STREAM_ABOVE = 32 * 1024 * 1024;
/** Files copied at once. */
const PARALLEL = 16;

/** Every entry under `root`, parents before children, with the sha256 of each file. */
export async function buildManifest(root: string): Promise<SlugEntry[]> {
  const entries: SlugEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    const st = await lstat(dir);
    entries.push({ path: toPosix(relative(root, dir)), type: 'dir', mode: st.mode & 0o7777 });
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      const info = await lstat(p);
      if (info.isDirectory()) await walk(p);
      else if (info.isSymbolicLink()) entries.push({ path: toPosix(relative(root, p)), type: 'symlink', mode: info.mode & 0o7777, target: await readlink(p) });
      else if (info.isFile())
        entries.push({
          path: toPosix(relative(root, p)),
          type: 'file',
          mode: info.mode & 0o7777,
          size: info.size,
          mtimeMs: info.mtimeMs,
          sha256: await hashFile(p, info.size),
        });
    }
  };
  await walk(root);
  return entries;
}

/** Copies the slug at `root` to `dest` (which must not exist) per `entries`; throws SlugDrift when a file differs. */
export async function copyVerified(root: string, entries: readonly SlugEntry[], dest: string): Promise<void> {
  const dirs = entries.filter((e) => e.type === 'dir');
  // Writable while filling; each folder gets its own mode once its files are in.
  for (const d of dirs) await mkdir(join(dest, d.path), { recursive: true, mode: 0o700 });
  const files = entries.filter((e) => e.type !== 'dir');
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) await copyEntry(root, files[next++] as SlugEntry, dest);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, lane));
  for (const d of [...dirs].reverse()) await chmod(join(dest, d.path), d.mode);
}

async function copyEntry(root: string, e: SlugEntry, dest: string): Promise<void> {
  const from = join(root, e.path);
  const to = join(dest, e.path);
  if (e.type === 'symlink') {
    const target = await readlink(from).catch(() => null);
    if (target !== e.target) throw new SlugDrift(`${e.path} is not the link the build holds`);
    await symlink(target, to);
    return;
  }
  const st = await lstat(from).catch(() => null);
  if (!st?.isFile() || st.size !== e.size) throw new SlugDrift(`${e.path} is not the file the build holds`);
  let actual: string;
  if (st.size > STREAM_ABOVE) {
    const hash = createHash('sha256');
    const tap = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(createReadStream(from), tap, createWriteStream(to, { mode: 0o600 }));
    actual = hash.digest('hex');
  } else {
    const data = await readFile(from);
    actual = createHash('sha256').update(data).digest('hex');
    await writeFile(to, data, { mode: 0o600 });
  }
  if (actual !== e.sha256) throw new SlugDrift(`${e.path} was changed after the build was unpacked`);
  await chmod(to, e.mode);
  if (e.mtimeMs !== undefined) await utimes(to, e.mtimeMs / 1000, e.mtimeMs / 1000);
}

async function hashFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  if (size > STREAM_ABOVE) for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  else hash.update(await readFile(path));
  return hash.digest('hex');
}

const toPosix = (p: string) => p.split(sep).join('/');

/** The root of every working copy. */
export function workRoot(dataDir: string): string {
  return join(dataDir, 'work');
}

/** The working copy of one instance (or one-off command): `work/<app>/<env>/<component>.<id>`. */
export function workDirPath(dataDir: string, app: string, env: string, instanceLabel: string): string {
  return join(workRoot(dataDir), app, env, instanceLabel);
}

/** True when `dir` is a working copy (never a slug, nor anything else of the agent's). */
export function isWorkDir(dataDir: string, dir: string): boolean {
  const rel = relative(workRoot(dataDir), dir);
  return rel !== '' && !rel.startsWith('..') && rel.split(sep).length === 3;
}

/** Removes a working copy; anything that is not one is left alone. */
export async function removeWorkDir(dataDir: string, dir: string): Promise<void> {
  if (isWorkDir(dataDir, dir)) await forceRemove(dir);
}

/** rm -rf, also of folders an app (or the build) left without write permission. */
export async function forceRemove(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    const open = async (d: string): Promise<void> => {
      await chmod(d, 0o700).catch(() => {});
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await open(join(d, e.name));
    };
    await open(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Removes every working copy but those in `keep` (at agent start: copies of instances that are gone). */
export async function sweepWorkDirs(dataDir: string, keep: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  const root = workRoot(dataDir);
  const list = (dir: string) => readdir(dir).catch(() => [] as string[]);
  for (const app of await list(root)) {
    for (const env of await list(join(root, app))) {
      for (const name of await list(join(root, app, env))) {
        const dir = join(root, app, env, name);
        if (keep.has(dir)) continue;
        await forceRemove(dir);
        removed.push(dir);
      }
    }
  }
  return removed;
}
