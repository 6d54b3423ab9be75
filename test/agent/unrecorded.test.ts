/**
 * An agent killed between spawning an instance and writing its state file leaves a process no
 * state file names. The next agent finds it by its marks ($REWIND_AGENT, $REWIND_INSTANCE) and
 * stops it; processes of other agents, and the instances it re-adopts, are left alone.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import { combinedLogPath } from '../../src/agent/process-commands.js';
import { deploy, desiredState, get, killGroup, tempDir, useAgent, waitFor, web } from './helpers.js';

const a = useAgent({ stopGraceMs: 500 });

/** A process group leader that looks like an instance of `agentDir` (as spawnInstance starts them). */
function markedSleeper(agentDir: string, instance: string): number {
  const child = spawn('/bin/sh', ['-c', 'sleep 60'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, REWIND_AGENT: resolve(agentDir), REWIND_APP: 'shop', REWIND_ENV: 'production', REWIND_INSTANCE: instance },
  });
  child.unref();
  return child.pid as number;
}

it('stops the processes its predecessor started but never recorded, and nothing else', async () => {
  const port = await freePort();
  const strays: number[] = [];
  try {
    expect((await deploy(a.agent, desiredState('RONE', port, [web(a.v1)]))).result.ok).toBe(true);
    const live = (await a.client.observe('shop', 'production'))?.instances.map((i) => i.pid) ?? [];
    expect(live).toHaveLength(1);
    await a.close(); // instances keep running

    const unrecorded = markedSleeper(a.dir, 'web.ffffff');
    const otherAgents = markedSleeper(join(tempDir(), 'other-agent'), 'web.ffffff');
    strays.push(unrecorded, otherAgents);
    expect([unrecorded, otherAgents].every((pid) => isAlive(pid))).toBe(true);

    await a.start();
    await waitFor('the unrecorded process to be stopped', () => !isAlive(unrecorded), 5000);
    expect(isAlive(otherAgents)).toBe(true);
    expect((await a.client.observe('shop', 'production'))?.instances.map((i) => i.pid)).toEqual(live);
    expect((await get(port)).body).toBe('v1\n');
    const log = () => readFileSync(combinedLogPath(a.dir, 'shop', 'production'), 'utf8');
    await waitFor('the log line', () => log().includes('stopping web.ffffff'), 5000);
    expect(log()).toContain(`stopping web.ffffff (pid ${unrecorded}): started by the previous agent, which did not live to record it`);
  } finally {
    for (const pid of strays) if (isAlive(pid)) killGroup(pid);
  }
});
