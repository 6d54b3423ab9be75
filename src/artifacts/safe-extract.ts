import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { Parser, x as extractTar } from 'tar';
import type { ReadEntry } from 'tar';
import { RewindError } from '../domain/errors.js';
import { formatMB } from './artifact-store.js';

/**
 * Unpacking an untrusted upload. The whole archive is validated first (a listing pass that
 * writes nothing); only then is it extracted, with the same checks as a filter. Anything
 * that could write outside `destDir` refuses the archive as a whole.
 */

export interface ExtractLimits {
  /** Total unpacked size of the files. */
  readonly maxBytes: number;
  /** Number of entries (files, folders, links). */
  readonly maxEntries: number;
}

export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
}

const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const KIND: Record<string, string> = {
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a named pipe',
};

/** Extracts `tarGzPath` into `destDir` (created; must not exist or be empty). On any failure destDir is removed. */
export async function safeExtract(tarGzPath: string, destDir: string, limits: ExtractLimits): Promise<ExtractResult> {
  await assertGzip(tarGzPath);
  const dest = resolve(destDir);
  const checker = new EntryChecker(limits);
  await listAll(tarGzPath, checker);
  checker.finish();

  await mkdir(dest, { recursive: true });
  if ((await readdir(dest)).length > 0) throw new Error(`safeExtract: ${dest} is not empty`);
  let refusal: RewindError | undefined;
  const second = new EntryChecker(limits, checker.symlinks);

  try {
    await extractTar({
      file: tarGzPath,
      cwd: dest,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      unlink: false,
      // A second line of defence: the listing pass has already refused anything unsafe.
      filter: (_path, entry) => {
        if (refusal) return false;
        try {
          second.check(entry as ReadEntry);
          return true;
        } catch (e) {
          refusal = e as RewindError;
          return false;
        }
      },
    });
    if (refusal) throw refusal;
    return { entries: checker.entries, bytes: checker.bytes };
  } catch (e) {
    await rm(dest, { recursive: true, force: true });
    throw isRefusal(e) ? e : corrupt(e);
  }
}

interface Seen {
  readonly name: string;
  readonly rel: string;
  readonly type: string;
  readonly target?: string;
}

/** Validates entry headers one by one (check), then the links between them (finish). */
class EntryChecker {
  entries = 0;
  bytes = 0;
  private readonly seen: Seen[] = [];

  /** `symlinks`: every symlink of the archive when already known (second pass). */
  constructor(private readonly limits: ExtractLimits, private readonly known?: ReadonlySet<string>) {}

  get symlinks(): ReadonlySet<string> {
    return new Set(this.seen.filter((s) => s.type === 'SymbolicLink').map((s) => s.rel));
  }

  /** Checks one entry's header on its own; throws UNSAFE_ARCHIVE. */
  check(entry: ReadEntry): void {
    const name = entry.path;
    this.entries++;
    if (this.entries > this.limits.maxEntries) {
      throw new RewindError(
        'UNSAFE_ARCHIVE',
        `the upload has more than ${this.limits.maxEntries} entries (the limit); add generated or vendored folders to .rewindignore and try again`,
        { reason: 'too-many-entries', limit: this.limits.maxEntries },
      );
    }
    if (!ALLOWED.has(entry.type)) {
      const kind = KIND[entry.type] ?? `an entry of type ${entry.type}`;
      throw unsafe(name, `it is ${kind}; only files, folders and links are allowed`, 'type');
    }
    const rel = insidePath(name);
    if (rel === null) throw unsafe(name, 'paths must stay inside the source folder', 'path');
    const target = entry.linkpath ?? '';
    if (entry.type === 'SymbolicLink') {
      if (resolveLink(posix.dirname(rel), target, new Set()) === null) {
        throw unsafe(name, `it is a symbolic link to ${JSON.stringify(target)}, outside the source folder`, 'symlink');
      }
    } else if (entry.type === 'Link') {
      if (insidePath(target) === null) throw unsafe(name, `it is a hard link to ${JSON.stringify(target)}, outside the source folder`, 'hardlink');
    } else if (entry.type !== 'Directory') {
      this.bytes += entry.size;
      if (this.bytes > this.limits.maxBytes) {
        throw new RewindError(
          'UNSAFE_ARCHIVE',
          `the upload unpacks to more than ${formatMB(this.limits.maxBytes)} MB (the limit); add large files to .rewindignore and try again`,
          { reason: 'too-large', limit: this.limits.maxBytes },
        );
      }
    }
    const seen: Seen = { name, rel, type: entry.type, target };
    if (this.known) this.checkLinks(seen, this.known);
    else this.seen.push(seen);
  }

  /** Checks what needs the whole archive: nothing goes through a symbolic link. */
  finish(): void {
    const symlinks = this.symlinks;
    for (const s of this.seen) this.checkLinks(s, symlinks);
  }

  /**
   * Lexical resolution is sound only when no folder along the way is a link: refuse entries
   * inside a symlink, symlinks whose target walks through one, hard links to a symlink.
   */
  private checkLinks(s: Seen, symlinks: ReadonlySet<string>): void {
    const via = symlinkPrefix(s.rel, symlinks, false);
    if (via !== null) throw unsafe(s.name, `it is inside the symbolic link "${via}"; nothing may be written through a link`, 'through-link');
    if (s.type === 'SymbolicLink' && resolveLink(posix.dirname(s.rel), s.target ?? '', symlinks) === null) {
      throw unsafe(s.name, `it is a symbolic link to ${JSON.stringify(s.target)}, which goes through another link`, 'symlink');
    }
    if (s.type === 'Link') {
      const target = insidePath(s.target ?? '')!;
      const through = symlinkPrefix(target, symlinks, true);
      if (through !== null) throw unsafe(s.name, `it is a hard link to ${JSON.stringify(s.target)}, a symbolic link or a path through one`, 'hardlink');
    }
  }
}

/** The first symlink among the parents of `rel` (and `rel` itself when `self`), or null. */
function symlinkPrefix(rel: string, symlinks: ReadonlySet<string>, self: boolean): string | null {
  const parts = rel.split('/');
  const n = self ? parts.length : parts.length - 1;
  for (let i = 1; i <= n; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (symlinks.has(prefix)) return prefix;
  }
  return null;
}

/** The normalized relative path of an entry, or null if it is absolute or has a '..' segment. */
function insidePath(p: string): string | null {
  if (p === '' || isAbsoluteLike(p)) return null;
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) return null;
  return parts.length === 0 ? '.' : parts.join('/');
}

const isAbsoluteLike = (p: string) => p.includes('\0') || p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p);

/**
 * Resolves a symlink target against the link's folder, one component at a time, as the
 * kernel would when no folder walked through is itself a link (any in `symlinks` is
 * refused). Null when the target is absolute, leaves the root, or walks through a link.
 */
function resolveLink(linkDir: string, target: string, symlinks: ReadonlySet<string>): string | null {
  if (target === '' || isAbsoluteLike(target)) return null;
  const stack = linkDir === '.' ? [] : linkDir.split('/');
  for (const part of target.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (stack.length > 0 && symlinks.has(stack.join('/'))) return null;
    if (part === '..') {
      if (stack.length === 0) return null;
      stack.pop();
    } else stack.push(part);
  }
  return stack.join('/');
}

function listAll(tarGzPath: string, checker: EntryChecker): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    let refusal: RewindError | undefined;
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (!refusal) {
          try {
            checker.check(entry);
          } catch (e) {
            refusal = e as RewindError;
            parser.abort(new Error('refused'));
            source.destroy();
            reject(refusal);
          }
        }
        entry.resume();
      },
    });
    const source = createReadStream(tarGzPath);
    parser.on('error', (e: unknown) => reject(refusal ?? corrupt(e)));
    parser.on('end', () => resolvePromise());
    source.on('error', reject);
    source.pipe(parser);
  });
}

async function assertGzip(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) {
      throw new RewindError('INVALID_INPUT', 'the upload is not a gzip-compressed tar archive (.tar.gz); upload the source with "rewind deploy" or "rewind build"');
    }
  } finally {
    await fh.close();
  }
}

const isRefusal = (e: unknown): e is RewindError => e instanceof RewindError;

function corrupt(e: unknown): RewindError {
  if (e instanceof RewindError) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new RewindError('INVALID_INPUT', `the upload is not a valid .tar.gz archive (${reason}); pack it again and retry`);
}

function unsafe(entry: string, why: string, reason: string): RewindError {
  return new RewindError('UNSAFE_ARCHIVE', `the upload has an unsafe entry ${JSON.stringify(entry)}: ${why}; remove it and try again`, {
    entry,
    reason,
  });
}
