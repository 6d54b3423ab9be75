import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { RewindError } from '../domain/errors.js';

/**
 * Content-addressed store of tarballs (uploaded sources and built slugs):
 * `root/sha256/<2 hex>/<64 hex>.tar.gz`, written once, read-only, never edited.
 */

export interface StoredArtifact {
  readonly sha256: string;
  readonly size: number;
}

export interface ReceivedUpload extends StoredArtifact {
  /** Temp file under root/tmp; pass it to putFile, or discard it. */
  readonly tmpPath: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class ArtifactStore {
  constructor(readonly root: string) {}

  /** Where the artifact with this digest lives (whether or not it exists). */
  path(sha256: string): string {
    if (!SHA256.test(sha256)) throw new RewindError('INVALID_DIGEST', `"${sha256}" is not a sha256 digest (64 lower-case hex digits)`);
    return join(this.root, 'sha256', sha256.slice(0, 2), `${sha256}.tar.gz`);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.path(sha256))).isFile();
    } catch {
      return false;
    }
  }

  /** A fresh path under root/tmp (same file system as the store, so putFile can rename). */
  async tempPath(suffix = '.tmp'): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, `${Date.now()}-${randomBytes(8).toString('hex')}${suffix}`);
  }

  /** Moves a file into the store under its sha256. Idempotent: storing the same content twice keeps one copy. */
  async putFile(tmpPath: string): Promise<StoredArtifact> {
    const { sha256, size } = await hashFile(tmpPath);
    const target = this.path(sha256);
    if (await this.has(sha256)) {
      await rm(tmpPath, { force: true });
      return { sha256, size };
    }
    await mkdir(dirname(target), { recursive: true });
    await chmod(tmpPath, 0o444);
    try {
      await rename(tmpPath, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      // another file system: copy next to the target, then rename there atomically
      const near = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await copyFile(tmpPath, near);
      await rename(near, target);
      await rm(tmpPath, { force: true });
    }
    return { sha256, size };
  }

  /**
   * Writes an incoming upload to a temp file, hashing it on the fly. Past `maxBytes` it stops
   * reading, deletes the temp file and throws UPLOAD_TOO_LARGE; the source stream is then left
   * paused and unconsumed, for the caller to answer 413 and close the connection (or destroy it).
   * `declaredBytes` (e.g. Content-Length) refuses an oversized upload before reading anything.
   */
  async receive(stream: Readable, opts: { readonly maxBytes: number; readonly declaredBytes?: number }): Promise<ReceivedUpload> {
    const { maxBytes, declaredBytes } = opts;
    if (declaredBytes !== undefined && declaredBytes > maxBytes) throw tooLarge(maxBytes, declaredBytes);
    // the stream may fail while the temp file is being set up
    let early: unknown;
    const onEarly = (e: unknown) => (early = e);
    stream.once('error', onEarly);
    const tmpPath = await this.tempPath('.upload');
    stream.off('error', onEarly);
    const out = createWriteStream(tmpPath, { flags: 'wx' });
    const hash = createHash('sha256');
    let size = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (err?: unknown) => {
          if (settled) return;
          settled = true;
          stream.off('data', onData);
          stream.off('end', onEnd);
          stream.off('error', finish);
          stream.off('close', onClose);
          if (err) {
            stream.pause();
            reject(err);
          } else resolve();
        };
        const onData = (chunk: Buffer | string) => {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          size += buf.length;
          if (size > maxBytes) return finish(tooLarge(maxBytes, declaredBytes));
          hash.update(buf);
          if (!out.write(buf)) {
            stream.pause();
            out.once('drain', () => !settled && stream.resume());
          }
        };
        let ended = false;
        const onEnd = () => {
          ended = true;
          out.end(() => finish());
        };
        const onClose = () => {
          if (!ended) finish(new RewindError('UPLOAD_INTERRUPTED', 'the upload was interrupted before it ended; try again'));
        };
        stream.on('data', onData);
        stream.once('end', onEnd);
        stream.once('error', finish);
        stream.once('close', onClose);
        out.once('error', finish);
        if (early !== undefined) finish(early);
        else if (stream.destroyed && !stream.readableEnded) onClose();
        else stream.resume();
      });
    } catch (e) {
      // The file may still be opening: remove it only once the stream has closed, or it outlives the rm.
      if (!out.closed) await new Promise((closed) => out.once('close', closed).destroy());
      await rm(tmpPath, { force: true });
      throw e;
    }
    return { tmpPath, sha256: hash.digest('hex'), size };
  }

  /** Deletes a temp file that will not be stored (a refused upload). */
  async discard(tmpPath: string): Promise<void> {
    await rm(tmpPath, { force: true });
  }
}

/** sha256 and size of a file, read as a stream. */
export async function hashFile(path: string): Promise<StoredArtifact> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { sha256: hash.digest('hex'), size };
}

function tooLarge(maxBytes: number, actual?: number): RewindError {
  const limit = `${formatMB(maxBytes)} MB`;
  const message =
    actual !== undefined && actual > maxBytes
      ? `the upload is ${formatMB(actual)} MB, over the limit of ${limit}; add large files to .rewindignore`
      : `the upload is over the limit of ${limit}; add large files to .rewindignore`;
  return new RewindError('UPLOAD_TOO_LARGE', message, { limit: maxBytes });
}

export function formatMB(bytes: number): string {
  const mb = bytes / 2 ** 20;
  return mb >= 1 ? String(Math.round(mb * 10) / 10) : String(Number(mb.toPrecision(2)));
}
