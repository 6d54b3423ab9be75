import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, x as extractTar } from 'tar';
import type { ReadEntry } from 'tar';
import { RewindError } from '../domain/errors.js';
import { EntryChecker, safeMode } from './entry-policy.js';
import type { ExtractLimits } from './extract-limits.js';
import { RATIO_FLOOR, tooMuch } from './extract-limits.js';

/**
 * Unpacking an untrusted upload. The whole archive is validated first (a listing pass that
 * writes nothing); only then is it extracted, with the same checks as a filter. Anything
 * that could write outside `destDir` refuses the archive as a whole. Both passes stream with
 * backpressure (memory stays bounded whatever the archive holds) and count what the gzip
 * unpacks to, so a compression bomb is refused as soon as it shows.
 */

// The limits and the entry policy live in extract-limits.ts and entry-policy.ts; their names stay importable from here.
export type { ExtractLimits } from './extract-limits.js';
export { LIMIT_VARS, RATIO_FLOOR, uploadLimits } from './extract-limits.js';
export { safeMode } from './entry-policy.js';

export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
}

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
        return done(new RewindError('INVALID_ARCHIVE', 'the upload is compressed twice; upload a .tar.gz of the source (rewind build DIR does this)'));
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
      throw new RewindError(
        'INVALID_ARCHIVE',
        'the upload is not a gzip-compressed tar archive (.tar.gz); upload the source with "rewind deploy" or "rewind build"',
      );
    }
  } finally {
    await fh.close();
  }
}

const isRefusal = (e: unknown): e is RewindError => e instanceof RewindError;

function corrupt(e: unknown): RewindError {
  if (e instanceof RewindError) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new RewindError('INVALID_ARCHIVE', `the upload is not a valid .tar.gz archive (${reason}); pack it again and retry`);
}
