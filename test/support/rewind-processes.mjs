// The processes of a real Rewind, for every harness that needs one: the end-to-end and browser
// tests (test/e2e/harness.ts) and the benchmarks (bench/lib/rewind.mjs). `rewind server` on port 0
// with its data dir, the agent it starts (or one started first), and one strict stop that ends all
// of them by pid: the server, the agent, every instance's process group, and whatever still runs
// inside the data dir. Plain JavaScript, so the benchmarks run it with node alone.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'rewind.js');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True while `pid` runs (a zombie waiting for its parent to reap it counts as gone). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return true;
  }
}

export function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; `pid` < 0 targets a process group. Resolves when gone. */
export async function stopPid(pid, graceMs = 3000) {
  const probe = Math.abs(pid);
  if (!signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (alive(probe) && Date.now() < deadline) await sleep(25);
  if (alive(probe)) signal(pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (alive(probe) && Date.now() < hard) await sleep(25);
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

/** This process's environment without Rewind's settings (a REWIND_TOKEN here must not leak in), plus `env`. */
export function rewindEnv(env = {}) {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REWIND_'))), ...env };
}

/**
 * Pids of the processes that run inside `dir` or name it on their command line (instances, builds,
 * an nginx the agent started with its prefix there): Linux /proc; empty elsewhere.
 */
export function processesUnder(dir) {
  const out = [];
  try {
    dir = realpathSync(dir);
  } catch {
    return out;
  }
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      // nginx rewrites its command line into one string ("nginx: master process … -p DIR/…"): look for the path anywhere.
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const inside = cwd === dir || cwd.startsWith(`${dir}/`) || ` ${cmdline} `.includes(` ${dir}/`) || ` ${cmdline} `.includes(` ${dir} `);
      if (Number(name) !== process.pid && inside) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** A Rewind's server and agent processes on one data dir. */
export class RewindProcesses {
  url = '';
  serverPid = 0;
  agentPid = 0;
  /** The server's stdout and stderr, its last 200 kB. */
  serverLog = '';
  #server = null;
  #onSpawn;

  /** `onSpawn(child)` is told of every process started here (the benchmarks stop them on Ctrl-C). */
  constructor(dataDir, env = {}, onSpawn = () => {}) {
    this.dataDir = dataDir;
    this.env = { ...env, REWIND_DATA: dataDir };
    this.#onSpawn = onSpawn;
  }

  /** Spawns `node bin/rewind.js ARGS` with this Rewind's environment. */
  spawn(args, onOutput = () => {}) {
    const child = spawn(process.execPath, [BIN, ...args], { env: rewindEnv(this.env), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    this.#onSpawn(child);
    return child;
  }

  /** Starts `rewind agent` first (with extra arguments such as ['--proxy', 'nginx']); the server adopts it. */
  async startAgent(extra = []) {
    let log = '';
    const child = this.spawn(['agent', '--data', this.dataDir, '--port', '0', ...extra], (b) => (log = (log + b).slice(-20_000)));
    const info = await waitForFile(join(this.dataDir, 'agent', 'agent.json'), child, () => log);
    this.agentPid = info.pid;
  }

  /** Starts `rewind server` (again, after killServer) and waits until its server.json names it. */
  async startServer() {
    rmSync(join(this.dataDir, 'server.json'), { force: true });
    const child = this.spawn(['server', '--port', '0', '--data', this.dataDir], (b) => (this.serverLog = (this.serverLog + b).slice(-200_000)));
    this.#server = child;
    const info = await waitForFile(
      join(this.dataDir, 'server.json'),
      child,
      () => this.serverLog,
      (i) => i.pid === child.pid,
    );
    this.url = info.url;
    this.serverPid = child.pid;
    this.agentPid = this.agentInfo().pid;
  }

  /** Ends the server process (not the agent) with `sig`, and resolves once it exited. */
  async killServer(sig = 'SIGKILL') {
    const s = this.#server;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill(sig);
    await exited;
    this.#server = null;
  }

  /** The agent's agent.json: { pid, url, … }. */
  agentInfo() {
    return JSON.parse(readFileSync(join(this.dataDir, 'agent', 'agent.json'), 'utf8'));
  }

  /** The agent's token (it creates agent.token in its folder; REWIND_AGENT_TOKEN overrides it). */
  agentToken() {
    return this.env.REWIND_AGENT_TOKEN || process.env.REWIND_AGENT_TOKEN || readFileSync(join(this.dataDir, 'agent', 'agent.token'), 'utf8').trim();
  }

  async agentState() {
    const res = await fetch(`${this.agentInfo().url}/v1/state`, { headers: { authorization: `Bearer ${this.agentToken()}` } });
    if (!res.ok) throw new Error(`the agent answered ${res.status} to GET /v1/state: ${await res.text()}`);
    return res.json();
  }

  /** Pids of every instance the agent knows of, from its API, else from its state file. */
  async instancePids() {
    const pids = new Set();
    try {
      for (const a of (await this.agentState()).apps) for (const i of a.instances) if (i.pid) pids.add(i.pid);
    } catch {
      try {
        const state = JSON.parse(readFileSync(join(this.dataDir, 'agent', 'agent-state.json'), 'utf8'));
        for (const a of state.apps ?? []) for (const i of a.instances ?? []) if (i.pid) pids.add(i.pid);
      } catch {}
    }
    return pids;
  }

  /** Stops the server, the agent and every instance (by pid / process group), then removes the data dir. */
  async stop() {
    const known = await this.instancePids();
    let agent = this.agentPid;
    try {
      agent = this.agentInfo().pid;
    } catch {}
    if (this.#server && this.#server.exitCode === null) await stopPid(this.#server.pid, 5000);
    if (agent) await stopPid(agent, 5000);
    // Instances run in their own process groups and outlive the agent. A rollout may have started
    // some after the snapshot above: the state file the agent wrote last and the processes whose
    // working directory is in our data dir catch those.
    for (const pid of await this.instancePids()) known.add(pid);
    for (const pid of processesUnder(this.dataDir)) known.add(pid);
    await Promise.all([...known].map((pid) => stopPid(-pid, 3000).then(() => stopPid(pid, 1000))));
    const left = [this.serverPid, agent, ...known].filter((pid) => pid && alive(pid));
    rmSync(this.dataDir, { recursive: true, force: true });
    if (left.length) throw new Error(`processes still running after stop: ${left.join(', ')}`);
  }
}

/** Waits for the JSON file a starting process writes (and `accept`s), failing early if the process exits. */
async function waitForFile(file, child, log, accept = () => true, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rewind ${child.spawnargs[2]} exited with ${child.exitCode}: ${log()}`);
    try {
      const info = JSON.parse(readFileSync(file, 'utf8'));
      if (accept(info)) return info;
    } catch {}
    await sleep(50);
  }
  throw new Error(`rewind ${child.spawnargs[2]} did not start within ${timeoutMs / 1000} s: ${log()}`);
}
