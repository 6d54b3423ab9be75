/**
 * The edge routes are in the agent's state file: an agent SIGKILLed and started again on the same
 * data dir listens on the same port with the same route. The agent runs as its own process,
 * compiled with tsc (into its own folder, so that agent-process.test.ts may compile at the same time).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import type { AgentInfo } from '../../src/protocol/agent-protocol.js';
import { readAgentToken } from '../../src/protocol/agent-token.js';
import { call, getFresh, route, useUpstreams } from './edge-helpers.js';
import { FIXTURES, tempDir, useTempDirs, waitFor } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'rewind-agent-edge-test');
const started: number[] = [];
const upstream = useUpstreams();
let dataDir: string;

useTempDirs();

beforeAll(() => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(FIXTURES, 'tsconfig.agent.json'), '--outDir', OUT], { cwd: ROOT, stdio: 'pipe' });
  dataDir = tempDir();
}, 30_000);

afterAll(async () => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the agents to stop', () => started.every((pid) => !isAlive(pid)), 5000).catch(() => {
    for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
});

/** Starts `run-agent.mjs agent --data DIR --port 0` and waits until it wrote its agent.json. */
async function startAgent(): Promise<{ url: string; token: string; pid: number }> {
  const child = spawn(process.execPath, [join(FIXTURES, 'run-agent.mjs'), 'agent', '--data', dataDir, '--port', '0'], {
    env: { ...process.env, REWIND_AGENT_MODULE: join(OUT, 'agent', 'agent-main.js'), REWIND_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  started.push(child.pid as number);
  const agentDir = join(dataDir, 'agent');
  const info = await waitFor('the agent to start', () => {
    const read = JSON.parse(readFileSync(join(agentDir, 'agent.json'), 'utf8')) as AgentInfo;
    return read.pid === child.pid ? read : null;
  });
  return { url: info.url, token: readAgentToken(agentDir) as string, pid: info.pid };
}

it('comes back after kill -9: the next agent listens on the same port with the same route and fence', async () => {
  const [one, two] = await Promise.all([upstream('one'), upstream('two')]);
  const port = await freePort();
  const first = await startAgent();
  const put = await call(first, 'PUT', '/v1/edge/shop/production', route(port, 7, [one, two], { drainMs: 5000 }));
  expect(put.status).toBe(201);
  const before = (await call(first, 'GET', '/v1/edge/shop/production')).body;
  expect(['one\n', 'two\n']).toContain(((await getFresh(port)) as { body: string }).body);

  process.kill(first.pid, 'SIGKILL');
  await waitFor('the agent to die', () => !isAlive(first.pid));
  // Nothing serves the port while no agent runs (refused, or reset when the kill lands mid-accept).
  expect(await getFresh(port)).toHaveProperty('error');

  const second = await startAgent();
  expect(second.pid).not.toBe(first.pid);
  const seen = new Set<string>();
  for (let n = 0; n < 4; n++) {
    const answer = await getFresh(port);
    seen.add('body' in answer ? answer.body : answer.error);
  }
  expect(seen).toEqual(new Set(['one\n', 'two\n']));
  const after = (await call(second, 'GET', '/v1/edge/shop/production')).body;
  const { updatedAt: _a, ...was } = before;
  const { updatedAt: _b, ...is } = after;
  expect(is).toEqual(was);
  // The fence came back too: an older route is still refused.
  expect((await call(second, 'PUT', '/v1/edge/shop/production', route(port, 6, [one]))).status).toBe(409);
  expect((await call(second, 'DELETE', '/v1/edge/shop/production')).body).toEqual({ deleted: true, drained: true });
  expect(await getFresh(port)).toEqual({ error: 'ECONNREFUSED' });
}, 40_000);
