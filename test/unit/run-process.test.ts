import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../../src/builder/run-process.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
/** Whether pid runs (a killed process whose parent died may stay a zombie until init reaps it). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('runProcess, the one executor of user commands', () => {
  it('hands over stdout and stderr and resolves the exit code', async () => {
    const chunks: Buffer[] = [];
    const outcome = await runProcess({
      argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'],
      cwd: '/',
      env,
      timeoutMs: 10_000,
      onOutput: (c) => chunks.push(c),
    });
    expect(outcome).toEqual({ kind: 'exited', code: 3 });
    expect(Buffer.concat(chunks).toString().split('\n').sort()).toEqual(['', 'err', 'out']);
  });

  it('kills the whole process group at the timeout', async () => {
    const chunks: Buffer[] = [];
    const outcome = await runProcess({
      argv: ['/bin/sh', '-c', 'sleep 30 & echo $!; wait'],
      cwd: '/',
      env,
      timeoutMs: 300,
      onOutput: (c) => chunks.push(c),
    });
    expect(outcome).toEqual({ kind: 'timed-out' });
    const grandchild = Number(Buffer.concat(chunks).toString().trim());
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('kills the command when its signal aborts', async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 100);
    const outcome = await runProcess({ argv: ['sleep', '30'], cwd: '/', env, timeoutMs: 10_000, signal: cancel.signal, onOutput: () => {} });
    expect(outcome).toEqual({ kind: 'cancelled' });
  });

  it('says why a command could not start', async () => {
    const outcome = await runProcess({ argv: ['/no/such/command'], cwd: '/', env, timeoutMs: 10_000, onOutput: () => {} });
    expect(outcome.kind).toBe('not-started');
    expect((outcome as { message: string }).message).toContain('ENOENT');
  });
});
