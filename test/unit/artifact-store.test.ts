import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import { ArtifactStore, formatMB, hashFile } from '../../src/artifacts/artifact-store.js';

let root: string;
let store: ArtifactStore;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rewind-store-'));
  store = new ArtifactStore(root);
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const tmpFiles = () => (existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : []);

async function failure(p: Promise<unknown>): Promise<RewindError> {
  const e = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RewindError);
  return e as RewindError;
}

describe('ArtifactStore', () => {
  it('lays artifacts out by sha256 and validates digests', () => {
    const d = 'ab'.repeat(32);
    expect(store.path(d)).toBe(join(root, 'sha256', 'ab', `${d}.tar.gz`));
    for (const bad of ['', 'AB'.repeat(32), 'ab', `../${'a'.repeat(61)}`, 'g'.repeat(64)]) {
      expect(() => store.path(bad)).toThrow(RewindError);
    }
  });

  it('putFile moves a file in under its sha256, read-only', async () => {
    const tmp = await store.tempPath();
    writeFileSync(tmp, 'some bytes');
    const put = await store.putFile(tmp);
    expect(put).toEqual({ sha256: sha('some bytes'), size: 10 });
    expect(existsSync(tmp)).toBe(false);
    expect(readFileSync(store.path(put.sha256), 'utf8')).toBe('some bytes');
    expect(statSync(store.path(put.sha256)).mode & 0o222).toBe(0);
    expect(await store.has(put.sha256)).toBe(true);
    expect(await store.has('0'.repeat(64))).toBe(false);
    expect(await store.has('not a digest')).toBe(false);
  });

  it('putFile is idempotent', async () => {
    const a = await store.tempPath();
    const b = await store.tempPath();
    writeFileSync(a, 'same');
    writeFileSync(b, 'same');
    const first = await store.putFile(a);
    const second = await store.putFile(b);
    expect(second).toEqual(first);
    expect(existsSync(b)).toBe(false);
    expect(readdirSync(join(root, 'sha256', first.sha256.slice(0, 2)))).toEqual([`${first.sha256}.tar.gz`]);
  });

  it('receive writes an upload to a temp file, hashing on the fly', async () => {
    const body = Buffer.alloc(300_000, 7);
    const got = await store.receive(Readable.from([body.subarray(0, 100_000), body.subarray(100_000)]), { maxBytes: 300_000 });
    expect(got.size).toBe(300_000);
    expect(got.sha256).toBe(sha(body));
    expect(got.tmpPath.startsWith(join(root, 'tmp'))).toBe(true);
    expect(readFileSync(got.tmpPath).equals(body)).toBe(true);
    expect(await store.putFile(got.tmpPath)).toEqual({ sha256: got.sha256, size: got.size });
    expect(tmpFiles()).toEqual([]);
  });

  it('receive aborts as soon as the upload passes maxBytes and deletes the temp file', async () => {
    const source = new PassThrough();
    const pending = store.receive(source, { maxBytes: 2 ** 20 });
    source.write(Buffer.alloc(2 ** 19));
    source.write(Buffer.alloc(2 ** 19));
    source.write(Buffer.alloc(10)); // over the limit; the rest is never read
    const e = await failure(pending);
    expect(e.code).toBe('UPLOAD_TOO_LARGE');
    expect(e.status).toBe(413);
    expect(e.message).toBe('the upload is over the limit of 1 MB; add large files to .rewindignore');
    expect(tmpFiles()).toEqual([]);
    expect(source.destroyed).toBe(false);
  });

  it('receive refuses a declared size over the limit before reading', async () => {
    const source = new PassThrough();
    const e = await failure(store.receive(source, { maxBytes: 10 * 2 ** 20, declaredBytes: 12.34 * 2 ** 20 }));
    expect(e.message).toBe('the upload is 12.3 MB, over the limit of 10 MB; add large files to .rewindignore');
    expect(tmpFiles()).toEqual([]);
  });

  it('receive cleans up when the upload fails midway', async () => {
    const source = new PassThrough();
    const pending = store.receive(source, { maxBytes: 1000 });
    source.write('abc');
    source.destroy(new Error('connection reset'));
    await expect(pending).rejects.toThrow('connection reset');
    expect(tmpFiles()).toEqual([]);
  });

  it('hashFile and formatMB', async () => {
    const p = join(root, 'f');
    writeFileSync(p, 'x');
    expect(await hashFile(p)).toEqual({ sha256: sha('x'), size: 1 });
    expect(formatMB(10 * 2 ** 20)).toBe('10');
    expect(formatMB(1.25 * 2 ** 20)).toBe('1.3');
    expect(formatMB(2 ** 19)).toBe('0.5');
  });
});
