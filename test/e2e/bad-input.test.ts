import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixtureApp, useDirs, useRewind } from './harness.js';
import { MANIFEST, rawTarGz } from './tarball.js';

// Each bad input gets one clear line and a non-zero exit, and changes nothing.
describe('bad input is refused clearly and changes nothing', () => {
  const rw = useRewind({ REWIND_MAX_UPLOAD_MB: '1' });
  const dirs = useDirs();
  let good: string;
  const counts = async () => ({
    apps: (await rw.api<unknown[]>('/api/apps')).body.length,
    builds: (await rw.api<unknown[]>('/api/apps/shop/builds?limit=1000')).body.length,
    releases: (await rw.api<unknown[]>('/api/apps/shop/releases?limit=1000')).body.length,
    active: (await rw.api<{ environments: Array<{ activeRelease: string }> }>('/api/apps/shop')).body.environments[0].activeRelease,
  });
  const upload = (tgz: Buffer) =>
    rw
      .fetch(`/api/apps/shop/builds`, { method: 'POST', headers: { 'content-type': 'application/gzip' }, body: tgz as Uint8Array<ArrayBuffer> })
      .then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { error: { code: string; message: string } },
      }));
  const oneLine = (stderr: string) => {
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^error: /);
  };

  beforeAll(async () => {
    good = await fixtureApp({ version: 'v1' });
    dirs.push(good);
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
    expect((await rw.cli(['deploy', good, '-a', 'shop'])).code).toBe(0);
  });

  it('unknown app', async () => {
    const before = await counts();
    const res = await rw.cli(['releases', '-a', 'nope']);
    expect(res.code).not.toBe(0);
    oneLine(res.stderr);
    expect(res.stderr).toContain('app "nope" does not exist');
    expect(await counts()).toEqual(before);
  });

  it('unknown release', async () => {
    const before = await counts();
    const res = await rw.cli(['releases', 'rollback', 'RAAAAAAAAAA', '-a', 'shop']);
    expect(res.code).not.toBe(0);
    oneLine(res.stderr);
    expect(res.stderr).toContain('release RAAAAAAAAAA does not exist in app "shop"');
    expect(await counts()).toEqual(before);
  });

  it('invalid app name', async () => {
    const before = await counts();
    const res = await rw.cli(['apps', 'create', 'Bad_Name']);
    expect(res.code).not.toBe(0);
    oneLine(res.stderr);
    expect(res.stderr).toContain('"Bad_Name" is not a valid app name');
    expect(await counts()).toEqual(before);
  });

  it('a failing build makes no release and the deploy shows its last log lines', async () => {
    const dir = await fixtureApp({
      version: 'v9',
      manifest: 'components:\n  web:\n    command: node server.js\n    build: \'echo compiling-step-one && echo "fatal: missing semicolon" >&2 && exit 4\'\n',
    });
    dirs.push(dir);
    const before = await counts();
    const res = await rw.cli(['deploy', dir, '-a', 'shop']);
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toContain('fatal: missing semicolon');
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(/^error: build B[A-Z]{10} failed: the build command of web exited with code 4/);
    const after = await counts();
    expect(after.releases).toBe(before.releases);
    expect(after.active).toBe(before.active);
    const builds = (await rw.api<Array<{ status: string }>>('/api/apps/shop/builds')).body;
    expect(builds[0].status).toBe('failed');
  });

  it('source with no manifest', async () => {
    const dir = await fixtureApp({ version: 'v1' });
    dirs.push(dir);
    await rm(join(dir, 'rewind.yml'));
    const before = await counts();
    const res = await rw.cli(['deploy', dir, '-a', 'shop']);
    expect(res.code).not.toBe(0);
    oneLine(res.stderr);
    expect(res.stderr).toContain('no rewind.yml, convox.yml or Procfile');
    expect(await counts()).toEqual(before);
  });

  it('manifest with an unknown key and a wrong type names the key and line', async () => {
    const dir = await fixtureApp({ version: 'v1', manifest: 'components:\n  web:\n    command: node server.js\n    scal: 2\n    scale: two\n' });
    dirs.push(dir);
    const before = await counts();
    const res = await rw.cli(['deploy', dir, '-a', 'shop']);
    expect(res.code).not.toBe(0);
    oneLine(res.stderr);
    expect(res.stderr).toContain('rewind.yml:4');
    expect(res.stderr).toContain('scal');
    expect(res.stderr).toContain('rewind.yml:5');
    expect(await counts()).toEqual(before);
  });

  it.each([
    [
      'a .. path',
      [
        { name: 'rewind.yml', body: MANIFEST },
        { name: '../escape.txt', body: 'x' },
      ],
      '../escape.txt',
    ],
    [
      'an absolute path',
      [
        { name: 'rewind.yml', body: MANIFEST },
        { name: '/tmp/rewind-abs-escape.txt', body: 'x' },
      ],
      '/tmp/rewind-abs-escape.txt',
    ],
    [
      'a symlink that escapes',
      [
        { name: 'rewind.yml', body: MANIFEST },
        { name: 'link', type: '2' as const, linkname: '/etc' },
        { name: 'link/evil.txt', body: 'x' },
      ],
      'link',
    ],
    [
      'a hard link that escapes',
      [
        { name: 'rewind.yml', body: MANIFEST },
        { name: 'hard', type: '1' as const, linkname: '../../etc/passwd' },
      ],
      'hard',
    ],
  ])('a tarball with %s', async (_what, entries, name) => {
    const before = await counts();
    const res = await upload(rawTarGz(entries));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('UNSAFE_ARCHIVE');
    expect(res.body.error.message).toContain(name);
    expect(await counts()).toEqual(before);
  });

  it('an upload over the size limit', async () => {
    const dir = await fixtureApp({ version: 'v1' });
    dirs.push(dir);
    await writeFile(join(dir, 'big.bin'), randomBytes(3 * 1024 * 1024));
    const before = await counts();
    const res = await rw.cli(['deploy', dir, '-a', 'shop']);
    expect(res.code).not.toBe(0);
    oneLine(res.stderr);
    expect(res.stderr).toMatch(/over the limit of 1 MB/);
    expect(await counts()).toEqual(before);
  });

  it('an unknown field and an unknown pipeline run are named, not a 500', async () => {
    const extra = await rw.fetch(`/api/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x","colour":"red"}' });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { message: string } }).error.message).toBe('invalid body: has an unknown field "colour"; see /api/openapi.json');
    const run = await rw.fetch(`/api/pipelines/runs/PAAAAAAAAAA`);
    expect(run.status).toBe(404);
    expect(((await run.json()) as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND');
  });

  it('malformed JSON is a 400, not a 500', async () => {
    const res = await rw.fetch(`/api/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('not valid JSON');
  });
});
