import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, x as extractTar } from 'tar';
import type { ReadEntry } from 'tar';
import { RewindError } from '../domain/errors.js';
import { formatMB } from './artifact-store.js';

/**
 * Unpacking an untrusted upload. The whole archive is validated first (a listing pass that
 * writes nothing); only then is it extracted, with the same checks as a filter. Anything
 * that could write outside `destDir` refuses the archive as a whole. Both passes stream with
 * backpressure (memory stays bounded whatever the archive holds) and count what the gzip
 * unpacks to, so a compression bomb is refused as soon as it shows.
 */

export interface ExtractLimits {
  /** Total unpacked size of the files. */
  readonly maxBytes: number;
  /** Number of entries (files, folders, links). */
  readonly maxEntries: number;
  /** Unpacked bytes per byte of the archive, checked once more than RATIO_FLOOR is unpacked. */
  readonly maxRatio?: number;
}

/** Below this much unpacked, the ratio is not checked (small archives of text compress very well). */
export const RATIO_FLOOR = 64 * 1024 * 1024;

/** The environment variables that set the limits of source uploads (see docs/limits.md). */
export const LIMIT_VARS = { maxBytes: 'REWIND_MAX_UNPACKED_MB', maxEntries: 'REWIND_MAX_UNPACKED_ENTRIES', maxRatio: 'REWIND_MAX_UNPACK_RATIO' } as const;

/** Limits of a source upload: 1024 MB unpacked, 50,000 entries, 100 times the archive's size; each overridable by its variable. */
export function uploadLimits(env: Readonly<Record<string, string | undefined>> = process.env): Required<ExtractLimits> {
  const num = (name: string, fallback: number) => {
    const v = Number(env[name] ?? '');
    return env[name] !== undefined && env[name] !== '' && Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return {
    maxBytes: Math.floor(num(LIMIT_VARS.maxBytes, 1024) * 1024 * 1024),
    maxEntries: Math.floor(num(LIMIT_VARS.maxEntries, 50_000)),
    maxRatio: num(LIMIT_VARS.maxRatio, 100),
  };
}

/**
 * File modes as unpacked: never setuid, setgid or sticky, never group- or world-writable
 * (a file uploaded as 4755 must not become a setuid program on the server).
 */
export const safeMode = (mode: number): number => mode & ~0o7022;

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
  const compressed = (await stat(tarGzPath)).size;
  const checker = new EntryChecker(limits);
  await listAll(tarGzPath, compressed, limits, checker);
  checker.finish();

  await mkdir(dest, { recursive: true });
  if ((await readdir(dest)).length > 0) throw new Error(`safeExtract: ${dest} is not empty`);
  let refusal: RewindError | undefined;
  const second = new EntryChecker(limits, checker.symlinks);

  try {
    const unpack = extractTar({
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
          const e = entry as ReadEntry;
          if (typeof e.mode === 'number') e.mode = safeMode(e.mode);
          return true;
        } catch (e) {
          refusal = e as RewindError;
          return false;
        }
      },
    });
    await pipeline(unpacked(tarGzPath, compressed, limits), unpack);
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
    if (this.entries > this.limits.maxEntries) throw tooMuch('entries', this.limits);
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
      if (this.bytes > this.limits.maxBytes) throw tooMuch('bytes', this.limits);
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

/**
 * The archive's tar stream, gunzipped with backpressure; fails with UPLOAD_TOO_LARGE once it
 * unpacks to more than the limits allow (files, plus headers and padding) or more than
 * `maxRatio` times the archive's size.
 */
function unpacked(tarGzPath: string, compressed: number, limits: ExtractLimits): Readable {
  const maxRaw = limits.maxBytes + (limits.maxEntries + 16) * 2048 + (1 << 20);
  let raw = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      // tar would unpack a second layer of gzip (or zstd) itself, past these counts: refuse it.
      if (raw === 0 && (chunk.subarray(0, 2).equals(GZIP) || chunk.subarray(0, 4).equals(ZSTD))) {
        return done(new RewindError('INVALID_INPUT', 'the upload is compressed twice; upload a .tar.gz of the source (rewind build DIR does this)'));
      }
      raw += chunk.length;
      if (raw > maxRaw) return done(tooMuch('bytes', limits));
      if (limits.maxRatio !== undefined && raw > RATIO_FLOOR && raw > limits.maxRatio * compressed) return done(tooMuch('ratio', limits));
      done(null, chunk);
    },
  });
  const source = createReadStream(tarGzPath, { highWaterMark: 64 * 1024 });
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  const fail = (e: unknown) => counter.destroy(e instanceof Error ? e : new Error(String(e)));
  source.on('error', fail);
  gunzip.on('error', fail);
  counter.on('close', () => {
    source.destroy();
    gunzip.destroy();
  });
  return source.pipe(gunzip).pipe(counter);
}

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** The refusal of an archive over a limit: 413, naming the limit and the variable that sets it. */
function tooMuch(what: 'bytes' | 'entries' | 'ratio', limits: ExtractLimits): RewindError {
  const message =
    what === 'bytes'
      ? `the upload unpacks to more than ${formatMB(limits.maxBytes)} MB (the limit, set by ${LIMIT_VARS.maxBytes}); add large files to .rewindignore and try again`
      : what === 'entries'
        ? `the upload has more than ${limits.maxEntries} entries (the limit, set by ${LIMIT_VARS.maxEntries}); add generated or vendored folders to .rewindignore and try again`
        : `the upload unpacks to more than ${limits.maxRatio} times its size (the limit, set by ${LIMIT_VARS.maxRatio}); it looks like a compression bomb: upload the source itself`;
  const limit = what === 'bytes' ? limits.maxBytes : what === 'entries' ? limits.maxEntries : limits.maxRatio;
  return new RewindError('UPLOAD_TOO_LARGE', message, { reason: what === 'bytes' ? 'too-large' : what === 'entries' ? 'too-many-entries' : 'ratio', limit });
}

function listAll(tarGzPath: string, compressed: number, limits: ExtractLimits, checker: EntryChecker): Promise<void> {
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
    const source = unpacked(tarGzPath, compressed, limits);
    parser.on('error', (e: unknown) => reject(refusal ?? corrupt(e)));
    parser.on('end', () => resolvePromise());
    source.on('error', (e) => {
      refusal ??= corrupt(e);
      reject(refusal);
      parser.abort(new Error('refused'));
    });
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
