import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CappedLog, logKeepBytes } from '../../src/builder/build-log.js';
import { TaskOutput } from '../../src/engine/pipeline-tasks.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('capped logs', () => {
  it('keep the first and last bytes in a 0600 file, say how much was cut, and send followers what is kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rewind-log-'));
    dirs.push(dir);
    const path = join(dir, 'build-logs', 'B1.log');
    const sent: string[] = [];
    const log = await CappedLog.open(path, 1000, (t) => sent.push(t));
    log.write('HEAD');
    for (let i = 0; i < 1000; i++) log.write(Buffer.alloc(100, 'x'));
    log.write('TAIL');
    expect(log.text().length).toBeLessThan(2200);
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('HEAD')).toBe(true);
    expect(text.endsWith('TAIL')).toBe(true);
    expect(text).toMatch(/\n… 98008 bytes cut \(the first and last [\d.]+ MiB are kept; REWIND_LOG_KEEP_MB sets it\) …\n/);
    expect(text.length).toBeLessThan(2200);
    expect(sent.join('')).toBe(text);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'build-logs'))).mode & 0o777).toBe(0o700);
  });
  it('a short log is kept whole, with no cut line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rewind-log-'));
    dirs.push(dir);
    const log = await CappedLog.open(join(dir, 'l.log'), 1000);
    log.write('one\n');
    log.write('two\n');
    await log.close();
    expect(await readFile(join(dir, 'l.log'), 'utf8')).toBe('one\ntwo\n');
  });
  it('REWIND_LOG_KEEP_MB sets how much is kept (default 1 MiB)', () => {
    expect(logKeepBytes({})).toBe(1 << 20);
    expect(logKeepBytes({ REWIND_LOG_KEEP_MB: '0.5' })).toBe(1 << 19);
    expect(logKeepBytes({ REWIND_LOG_KEEP_MB: 'lots' })).toBe(1 << 20);
  });
  it("a pipeline task's lines are capped the same way, and a line without end is split", () => {
    const lines: string[] = [];
    const out = new TaskOutput((l) => lines.push(l), 100, 1000);
    out.data('first\n');
    for (let i = 0; i < 100; i++) out.data(`line ${i}\n`);
    out.data('x'.repeat(40_000));
    out.end();
    expect(lines[0]).toBe('first');
    const cut = lines.findIndex((l) => / bytes cut /.test(l));
    expect(cut).toBeGreaterThan(0);
    expect(lines.slice(cut + 1).join('\n').length).toBeLessThanOrEqual(100);
    expect(lines.every((l) => l.length <= 16 * 1024)).toBe(true);
  });
  it('and at most keepLines lines at each end', () => {
    const lines: string[] = [];
    const out = new TaskOutput((l) => lines.push(l), 1 << 20, 3);
    for (let i = 1; i <= 10; i++) out.data(`${i}\n`);
    out.end();
    expect(lines).toEqual(['1', '2', '3', expect.stringMatching(/^… 8 bytes cut \(4 lines; /), '8', '9', '10']);
  });
});
