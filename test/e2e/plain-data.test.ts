/**
 * Issue 9 end to end, through the real CLI and server: config keys named like Object.prototype
 * members (item 9), HEAD on streams (item 11), a build that prints 50 MB (item 12).
 */
import { describe, expect, it } from 'vitest';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { helloApp, useDir, useRewind } from './harness.js';

describe('plain data, streams and big build logs on a real server', () => {
  const rw = useRewind();
  const src = useDir(() => helloApp('v1'));

  it('constructor, toString, valueOf, hasOwnProperty and __proto__ are set, unset, diffed, promoted and rolled back like any other key', async () => {
    await rw.ok(['apps', 'create', 'keys']);
    await rw.ok(['envs', 'create', 'test', '-a', 'keys']);
    await rw.ok(['deploy', src.path, '-a', 'keys']);
    const set = await rw.ok(['env', 'set', 'constructor=a', 'toString=b', 'valueOf=c', 'hasOwnProperty=d', '-a', 'keys']);
    const withKeys = /^Release:\s+(R[A-Z]{10})$/m.exec(set.stdout)![1];
    expect((await rw.ok(['env', '-a', 'keys'])).stdout.split('\n').filter(Boolean)).toEqual(['constructor=a', 'hasOwnProperty=d', 'toString=b', 'valueOf=c']);
    expect((await rw.ok(['env', 'get', 'toString', '-a', 'keys'])).stdout).toBe('b\n');
    // __proto__ too, deployed: the running instance has it as a variable.
    await rw.ok(['env', 'set', '__proto__=e', '-a', 'keys']);
    expect((await rw.ok(['env', 'get', '__proto__', '-a', 'keys'])).stdout).toBe('e\n');
    const exec = await rw.ok(['exec', '-a', 'keys', '--', 'node -e "process.stdout.write(process.env.__proto__)"']);
    expect(exec.stdout).toBe('e');
    await rw.ok(['env', 'unset', '__proto__', '-a', 'keys']);
    expect((await rw.cli(['env', 'get', '__proto__', '-a', 'keys'])).code).not.toBe(0);

    const unset = await rw.ok(['env', 'unset', 'toString', '-a', 'keys']);
    expect(unset.stdout).not.toMatch(/nothing changes/);
    const without = /^Release:\s+(R[A-Z]{10})$/m.exec(unset.stdout)![1];
    const again = await rw.cli(['env', 'unset', 'toString', '-a', 'keys']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/toString is not set/);

    const diff = await rw.ok(['diff', withKeys, without, '-a', 'keys']);
    expect(diff.stdout).toMatch(/^ {4}toString\s+remove\s+b$/m);

    expect((await rw.ok(['promote', '-a', 'keys', '--from', 'production', '--to', 'test', '--dry-run'])).stdout).toMatch(/^Plan: /);
    const rollback = await rw.ok(['releases', 'rollback', withKeys, '-a', 'keys', '--dry-run']);
    expect(rollback.stdout).toMatch(/^ {4}toString\s+add\s+b$/m);
    await rw.ok(['releases', 'rollback', withKeys, '-a', 'keys', '--yes']);
    expect((await rw.ok(['env', 'get', 'toString', '-a', 'keys'])).stdout).toBe('b\n');
  });

  it('HEAD on /api/events and other streams answers and ends', async () => {
    for (const path of ['/api/events', '/api/apps/keys/logs?follow=true']) {
      const res = await rw.fetch(path, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      expect(res.status, path).toBe(200);
      expect(await res.text()).toBe('');
    }
  });

  it('a build that prints 50 MB keeps its first and last MiB, and the server stays small', async () => {
    const manifest = join(src.path, 'rewind.yml');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace(/build: .*/, 'build: seq 1 10000000 | head -c 50000000; echo; echo THE-END'));
    const out = await rw.ok(['build', src.path, '-a', 'keys']);
    const id = /(B[A-Z]{10})/.exec(out.stdout)![1];
    const logs = (await rw.ok(['builds', 'logs', id, '-a', 'keys'])).stdout;
    expect(logs.length).toBeLessThan(2.2 * 2 ** 20);
    expect(logs).toMatch(/\n… \d+ bytes cut \(the first and last 1 MiB are kept; REWIND_LOG_KEEP_MB sets it\) …\n/);
    expect(logs).toMatch(/THE-END\n/);
    expect((await stat(join(rw.dataDir, 'build-logs', `${id}.log`))).mode & 0o777).toBe(0o600);
    // The log is in its file, not the database.
    expect(await rw.storeBytes()).toBeLessThan(20 * 2 ** 20);
    // Loosely: the server's peak memory (it reached 900 MB for 200 MB of output).
    const { pid } = JSON.parse(await readFile(join(rw.dataDir, 'server.json'), 'utf8')) as { pid: number };
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
    expect(hwm).toBeLessThan(400 * 2 ** 20);
  });
});
