import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { c as createTar } from 'tar';
import { RewindError } from '../domain/errors.js';

/**
 * Packing the source a user uploads: every file that git would track (`.gitignore` files
 * at any depth) minus `.rewindignore` (root), never `.git/`. Symlinks stay symlinks.
 */

interface Rules {
  /** Directory the rules belong to, relative to the root ('' for the root), with a trailing '/'. */
  readonly base: string;
  readonly rules: Ignore;
}

/** Relative POSIX paths of the files (and symlinks) to upload, sorted. */
export async function listSourceFiles(dir: string): Promise<string[]> {
  const rootRules: Rules[] = [];
  const gitignore = await readRules(dir, '.gitignore', '');
  if (gitignore) rootRules.push(gitignore);
  // .rewindignore comes last so that it has the final word (it may re-include with `!`).
  const rewindignore = await readRules(dir, '.rewindignore', '');
  const out: string[] = [];

  const isIgnored = (chain: readonly Rules[], rel: string): boolean => {
    let ignored = false;
    for (const r of rewindignore ? [...chain, rewindignore] : chain) {
      const local = rel.slice(r.base.length);
      // We only walk folders that are not ignored overall: a rule set that ignores the
      // parent (re-included by a later one, e.g. `!dist/` in .rewindignore) has no say here.
      const parent = local.replace(/[^/]+\/?$/, '');
      if (parent !== '' && r.rules.test(parent).ignored) continue;
      const res = r.rules.test(local);
      if (res.ignored) ignored = true;
      else if (res.unignored) ignored = false;
    }
    return ignored;
  };

  const walk = async (absDir: string, relDir: string, chain: readonly Rules[]): Promise<void> => {
    const entries = await readdir(absDir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name === '.git') continue;
      const rel = relDir + e.name;
      if (e.isDirectory()) {
        if (isIgnored(chain, `${rel}/`)) continue;
        const nested = await readRules(join(absDir, e.name), '.gitignore', `${rel}/`);
        await walk(join(absDir, e.name), `${rel}/`, nested ? [...chain, nested] : chain);
      } else if (e.isFile() || e.isSymbolicLink()) {
        if (!isIgnored(chain, rel)) out.push(rel);
      }
      // sockets, FIFOs and devices are never part of a source tree
    }
  };
  await walk(dir, '', rootRules);
  return out.sort();
}

export interface PackResult {
  /** Compressed size written. */
  readonly bytes: number;
  /** Number of files (and symlinks) packed. */
  readonly files: number;
}

/** Packs the source in `dir` as a tar.gz into `out` (a stream, which is ended, or a file path). */
export async function packSource(dir: string, out: Writable | string, onProgress?: (bytes: number) => void): Promise<PackResult> {
  const files = await listSourceFiles(dir);
  if (files.length === 0) {
    throw new RewindError('EMPTY_SOURCE', `there is nothing to upload in ${dir}: it is empty, or .gitignore/.rewindignore exclude every file`);
  }
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      onProgress?.(bytes);
      cb(null, chunk);
    },
  });
  const tar = createTar({ gzip: true, portable: true, cwd: dir, follow: false, noDirRecurse: true }, files.map(tarSafeName));
  const sink = typeof out === 'string' ? createWriteStream(out) : out;
  await pipeline(tar, counter, sink);
  return { bytes, files: files.length };
}

/** tar treats a leading '@' as "append this archive"; './' keeps it a plain file name. */
export const tarSafeName = (rel: string): string => (rel.startsWith('@') ? `./${rel}` : rel);

async function readRules(absDir: string, file: string, base: string): Promise<Rules | null> {
  let text: string;
  try {
    text = await readFile(join(absDir, file), 'utf8');
  } catch {
    return null;
  }
  return { base, rules: ignore().add(text) };
}
