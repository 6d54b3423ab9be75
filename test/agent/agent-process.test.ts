/**
 * The agent as its own process (started like `rewind server` does, through ensureLocalAgent):
 * SIGKILLed between and during rollouts, restarted, it re-adopts what runs.
 *
 * The agent is compiled with tsc into node_modules/.cache/rewind-agent-test (vitest runs TS, node
 * does not) and started by fixtures/run-agent.mjs, which takes the CLI's `agent --data DIR --port N`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, isAlive, processStartTime } from '../../src/agent/proc-info.js';
import type { AgentEvent, AgentInfo } from '../../src/protocol/agent-protocol.js';
import { ensureLocalAgent, readAgentInfo, type LocalAgentInfo } from '../../src/targets/local-agent-process.js';
import { LocalTarget } from '../../src/targets/local-target.js';
import { desiredState, FIXTURES, get, killRecorded, packApp, tempDir, useArtifactRoot, useTempDirs, waitFor, web } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const started: number[] = [];
let agentDir: string;

useTempDirs();

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(FIXTURES, 'tsconfig.agent.json')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  process.env.REWIND_AGENT_MODULE = join(ROOT, 'node_modules', '.cache', 'rewind-agent-test', 'agent', 'agent-main.js');
  agentDir = join(tempDir(), 'agent');
  useArtifactRoot(join(dirname(agentDir), 'artifacts')); // the agent's default store: <data>/artifacts
}, 30_000);

afterAll(async () => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the agents to stop', () => started.every((pid) => !isAlive(pid)), 5000).catch(() => {
    for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  killRecorded(agentDir);
});

async function ensure(): Promise<LocalAgentInfo> {
  const info = await ensureLocalAgent({ dataDir: agentDir, binPath: join(FIXTURES, 'run-agent.mjs') });
  if (!started.includes(info.pid)) started.push(info.pid);
  return info;
}

async function sigkill(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await waitFor(`agent ${pid} to die`, () => !isAlive(pid));
}

it('survives SIGKILL: a restarted agent re-adopts the same pids (standby included), serves within a second, and cleans up an interrupted rollout', async () => {
  const [v1, v2] = await Promise.all([packApp('v1'), packApp('v2')]);
  const first = await ensure();
  expect(first.pid).not.toBe(process.pid);
  expect(readAgentInfo(agentDir)).toEqual(first);
  expect(await ensure()).toEqual(first); // an agent that answers is reused

  const target = new LocalTarget(ensure, { pollIntervalMs: 100 });
  try {
    const proxyPort = await freePort();
    const events: AgentEvent[] = [];
    const applied = await target.apply(desiredState('RONE', proxyPort, [web(v1, { scale: 2 })]), (e) => events.push(e));
    expect(applied).toEqual({ ok: true, release: 'RONE' });
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: true });
    const pids = (await target.observe('shop', 'production'))?.instances.map((i) => i.pid) ?? [];
    expect(pids).toHaveLength(2);

    // Logs follow: past lines first, then new ones as they come.
    const abort = new AbortController();
    const stream = await target.logs('shop', 'production', { lines: 5, follow: true, signal: abort.signal });
    stream.setEncoding('utf8');
    let seen = '';
    stream.on('data', (chunk: string) => (seen += chunk));
    stream.on('error', () => {});
    await get(proxyPort, '/log');
    await waitFor('a followed line', () => seen.includes('hello from v1'));
    abort.abort();

    // RTWO replaces RONE, which stays on warm standby.
    expect(await target.apply(desiredState('RTWO', proxyPort, [web(v2)]), () => {})).toEqual({ ok: true, release: 'RTWO' });
    const before = (await target.observe('shop', 'production'))?.instances.map((i) => [i.release, i.pid, i.state]);
    expect(before?.filter((i) => i[2] === 'standby').map((i) => i[1])).toEqual(pids);

    await sigkill(first.pid);
    expect(pids.every((pid) => isAlive(pid as number))).toBe(true);

    // How fast it serves again is measured by `npm run bench`, not here.
    const starting = ensure();
    await waitFor('the proxy to serve again', async () => ((await get(proxyPort).catch(() => null))?.body === 'v2\n' ? true : null), 10_000);
    const second = await starting;
    expect(second.pid).not.toBe(first.pid);
    const adopted = await target.observe('shop', 'production');
    expect(adopted?.release).toBe('RTWO');
    expect(adopted?.instances.map((i) => [i.release, i.pid, i.state])).toEqual(before);
    // The re-adopted standby is as good as before: rolling back to a copy of RONE starts nothing.
    const back: AgentEvent[] = [];
    expect(await target.apply(desiredState('RBACK', proxyPort, [web(v1, { scale: 2 })]), (e) => back.push(e))).toEqual({ ok: true, release: 'RBACK' });
    expect(back.some((e) => e.type === 'log' && e.message.startsWith('starting '))).toBe(false);
    expect((await get(proxyPort)).body).toBe('v1\n');
    const serving = (await target.observe('shop', 'production'))?.instances.map((i) => i.pid);

    // SIGKILL during a rollout: the stream breaks, the next agent stops the half-started instance,
    // and apply reports that RBACK still runs.
    const during: AgentEvent[] = [];
    const applying = target.apply(desiredState('RTHREE', proxyPort, [web(v2)], { BOOT_DELAY_MS: '3000' }), (e) => during.push(e));
    const startLine = await waitFor('the new instance to start', () => during.find((e) => e.type === 'log' && e.message.startsWith('starting web.')));
    const orphan = Number(/\(pid (\d+)\)/.exec(startLine.type === 'log' ? startLine.message : '')?.[1]);
    await sigkill(second.pid);
    const outcome = await applying;
    expect(outcome).toMatchObject({ ok: false, release: 'RBACK' });
    expect(outcome.error).toContain('RTHREE is not the running release');
    expect(isAlive(orphan)).toBe(false);
    const third = readAgentInfo(agentDir) as AgentInfo;
    expect(third.pid).not.toBe(second.pid);
    expect((await target.observe('shop', 'production'))?.instances.map((i) => i.pid)).toEqual(serving);
    expect((await get(proxyPort)).body).toBe('v1\n');
  } finally {
    await target.close();
  }
}, 40_000);

// The bench's agent-restart race (issue 14 item 5): the server starts an agent while another one
// is taking the data dir. Ours exits ("another agent is using …"), and the server must then wait
// for the one that won, not fail with AGENT_UNAVAILABLE.
it('waits for the agent that holds the data dir when the one it started loses the race', async () => {
  const dir = join(tempDir(), 'raced', 'agent');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A live process holds the agent's lock while ours starts (as the bench's new agent does).
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
  started.push(holder.pid!);
  writeFileSync(join(dir, 'agent.lock'), `${holder.pid} ${processStartTime(holder.pid!) ?? ''}\n`, { mode: 0o600 });
  const ensured = ensureLocalAgent({ dataDir: dir, binPath: join(FIXTURES, 'run-agent.mjs'), timeoutMs: 10_000 });
  // Ours has lost by now; then the winner comes up for real.
  await waitFor('the agent it started to give up', () => readFileSync(join(dir, 'agent.log'), 'utf8').includes('another agent'), 5000);
  // ensureLocalAgent looks every 100 ms: let it see its agent gone while the lock is held.
  await new Promise((r) => setTimeout(r, 500));
  holder.kill('SIGKILL');
  await waitFor('the holder to die', () => !isAlive(holder.pid!));
  rmSync(join(dir, 'agent.lock'));
  const winner = spawn(process.execPath, [join(FIXTURES, 'run-agent.mjs'), 'agent', '--data', dirname(dir), '--port', '0'], {
    stdio: 'ignore',
    env: process.env,
  });
  started.push(winner.pid!);
  const info = await ensured;
  expect(info.pid).toBe(winner.pid);
  expect(await get(Number(new URL(info.url).port), '/v1/health', { authorization: `Bearer ${info.token}` })).toMatchObject({ status: 200 });
  killRecorded(dir);
}, 30_000);
