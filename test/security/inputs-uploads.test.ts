/** Uploads that unpack to too much (issue 9, items 13 and 15): a fast 413 naming the limit and its variable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rawTarGz } from '../e2e/tarball.js';
import { inProcessApp, type InProcess } from './inputs-app.js';

let server: InProcess;
beforeAll(async () => {
  server = await inProcessApp({ maxUploadBytes: 50 << 20 });
  expect((await server.app.inject({ method: 'POST', url: '/api/apps', payload: { name: 'up' } })).statusCode).toBe(201);
});
afterAll(async () => server?.close());

/** A ustar header for one file of `size` bytes. */
function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const upload = async (tarball: Buffer) => {
  const started = Date.now();
  const res = await server.app.inject({ method: 'POST', url: '/api/apps/up/builds', headers: { 'content-type': 'application/gzip' }, payload: tarball });
  return { status: res.statusCode, error: (res.json() as { error?: { code: string; message: string } }).error, ms: Date.now() - started };
};
const nothingRecorded = async () => {
  expect((await server.app.inject({ method: 'GET', url: '/api/apps/up/builds' })).json()).toEqual([]);
  const work = await readdir(join(server.dir, 'builds')).catch(() => []);
  expect(work).toEqual([]);
};

describe('uploads are unpacked within limits', () => {
  it('a gzip of zeros (a few hundred KB that unpack to 1.5 GB) is a fast 413 naming REWIND_MAX_UNPACKED_MB', async () => {
    // The header declares 1.5 GB; the zeros that follow are only as many as it takes to be a bomb.
    const bomb = gzipSync(Buffer.concat([header('zeros', 1536 * 2 ** 20), Buffer.alloc(64 * 2 ** 20)]));
    const r = await upload(bomb);
    expect(r.status).toBe(413);
    expect(r.error?.code).toBe('UPLOAD_TOO_LARGE');
    expect(r.error?.message).toBe(
      'the upload unpacks to more than 1024 MB (the limit, set by REWIND_MAX_UNPACKED_MB); add large files to .rewindignore and try again',
    );
    expect(r.ms).toBeLessThan(5000);
    await nothingRecorded();
  });
  it('a file of zeros within the size limit but 100 times its archive is a 413 naming REWIND_MAX_UNPACK_RATIO', async () => {
    const size = 300 * 2 ** 20;
    const bomb = gzipSync(Buffer.concat([header('zeros', size), Buffer.alloc(size), Buffer.alloc(1024)]), { level: 9 });
    const r = await upload(bomb);
    expect(r.status).toBe(413);
    expect(r.error?.message).toMatch(/more than 100 times its size \(the limit, set by REWIND_MAX_UNPACK_RATIO\)/);
    expect(r.ms).toBeLessThan(5000);
    await nothingRecorded();
  });
  it('100,000 one-byte files are a fast 413 naming REWIND_MAX_UNPACKED_ENTRIES', async () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => ({ name: `f/${i}`, body: 'x' }));
    const r = await upload(rawTarGz([{ name: 'rewind.yml', body: 'components:\n  web:\n    command: x\n' }, ...entries]));
    expect(r.status).toBe(413);
    expect(r.error?.message).toBe(
      'the upload has more than 50000 entries (the limit, set by REWIND_MAX_UNPACKED_ENTRIES); add generated or vendored folders to .rewindignore and try again',
    );
    expect(r.ms).toBeLessThan(5000);
    await nothingRecorded();
  });
});
