// A real Rewind for the benchmarks: the processes the end-to-end tests use too
// (test/support/rewind-processes.mjs), started on a temp data dir and stopped at cleanup (also on
// Ctrl-C), with a keep-alive API client, the CLI and the deployment event stream.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { readSse } from '../../dist/contract/sse.js';
import { RewindProcesses, processesUnder, rewindEnv } from '../../test/support/rewind-processes.mjs';
import { alive, isInterrupted, onCleanup, removeDirLater, signal, stopPid } from './cleanup.mjs';
import { BIN, ROOT, sleep } from './util.mjs';

export { processesUnder };

export async function tempDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  removeDirLater(dir);
  return dir;
}

/** A copy of bench/app whose server.js says `version`. */
export async function benchApp(version) {
  const dir = await tempDir('rewind-bench-app-');
  await cp(join(ROOT, 'bench', 'app'), dir, { recursive: true });
  const file = join(dir, 'server.js');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/const VERSION = '[^']*'/, `const VERSION = '${version}'`));
  return dir;
}

export class BenchRewind extends RewindProcesses {
  #pool = null;
  #stopping = null;

  /**
   * Starts the server on `dataDir` (a new temp dir by default). With `agentArgs`, the agent is
   * started first with those extra arguments (e.g. ['--proxy', 'nginx']) and the server adopts it.
   */
  static async start({ dataDir, env = {}, agentArgs } = {}) {
    if (isInterrupted()) throw new Error('interrupted');
    const r = new BenchRewind(dataDir ?? (await tempDir('rewind-bench-data-')), env, (child) =>
      onCleanup(() => (child.exitCode === null && child.signalCode === null ? stopPid(child.pid) : undefined)),
    );
    onCleanup(() => r.stop());
    if (agentArgs) await r.startAgent(agentArgs);
    await r.startServer();
    r.#pool = new Pool(r.url, { connections: 16 });
    return r;
  }

  /**
   * SIGKILLs the agent (its instances keep running) and starts a new one as the server would.
   * Resolves with the new agent's pid once agent.json names it. Should the server have started one
   * first (it starts the agent on demand), that one is taken instead of ours.
   */
  async killAndRestartAgent() {
    const old = this.agentInfo().pid;
    signal(old, 'SIGKILL');
    while (alive(old)) await sleep(1);
    const startedAt = performance.now();
    let agentLog = '';
    const child = this.spawn(['agent', '--data', this.dataDir, '--port', '0'], (b) => (agentLog = (agentLog + b).slice(-20_000)));
    const log = () => agentLog;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const info = this.agentInfo();
        if (info.pid !== old && alive(info.pid)) {
          this.agentPid = info.pid;
          return { pid: info.pid, startedAt };
        }
      } catch {}
      if (child.exitCode !== null && !/another agent/.test(log())) throw new Error(`the new agent exited with ${child.exitCode}: ${log()}`);
      await sleep(5);
    }
    throw new Error(`no agent answered within 30 s after the restart: ${log()}`);
  }

  /** The API's credential: the admin token the server made in its data dir. */
  get authHeaders() {
    return { authorization: `Bearer ${readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim()}` };
  }

  /** One API call with keep-alive; the body is parsed JSON (or null). */
  async api(method, path, body) {
    const res = await this.#pool.request({
      method,
      path,
      headers: body === undefined ? this.authHeaders : { ...this.authHeaders, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : null };
  }

  async ok(method, path, body) {
    const r = await this.api(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Runs the CLI against this server; resolves with its parsed --json output. */
  cliJson(args) {
    return new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, [BIN, ...args, '--json'], {
        env: rewindEnv({ REWIND_HOST: this.url, REWIND_DATA: this.dataDir, NO_COLOR: '1' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stopLater = onCleanup(() => stopPid(child.pid));
      let out = '';
      let err = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (err += b));
      child.on('close', (code) => {
        stopLater();
        if (code !== 0) return reject(new Error(`rewind ${args.join(' ')} exited ${code}: ${err.trim()}`));
        try {
          resolveRun(JSON.parse(out));
        } catch {
          reject(new Error(`rewind ${args.join(' ')} printed no JSON: ${out.slice(0, 500)}`));
        }
      });
    });
  }

  /** `rewind deploy DIR -a APP`: { build, release, deployment }. */
  deploy(dir, app) {
    return this.cliJson(['deploy', dir, '-a', app]);
  }

  async appUrl(app, env = 'production') {
    const a = await this.ok('GET', `/api/apps/${app}`);
    return a.environments.find((e) => e.name === env).url;
  }

  /**
   * Follows a deployment's event stream until it ends: { deployment, steps, endedAt } with `steps`
   * as { at (ms since epoch), message } and `endedAt` from performance.now(). No polling.
   */
  async followDeployment(id, timeoutMs = 120_000) {
    const res = await this.#pool.request({
      method: 'GET',
      path: `/api/deployments/${id}/events`,
      headers: { ...this.authHeaders, accept: 'text/event-stream' },
      bodyTimeout: timeoutMs,
    });
    if (res.statusCode !== 200) throw new Error(`GET /api/deployments/${id}/events answered ${res.statusCode}: ${await res.body.text()}`);
    const steps = [];
    for await (const { event, data } of readSse(res.body)) {
      if (event === 'step') {
        const e = JSON.parse(data);
        steps.push({ at: Date.parse(e.at), message: e.message });
      } else if (event === 'end') {
        const endedAt = performance.now();
        res.body.destroy();
        return { deployment: JSON.parse(data), steps, endedAt };
      }
    }
    throw new Error(`the event stream of deployment ${id} ended without an end event`);
  }

  /** Stops everything (once, whoever asks: the phase's own `finally` or an interrupt's cleanup). */
  stop() {
    this.#stopping ??= (async () => {
      await this.#pool?.close().catch(() => {});
      await super.stop();
    })();
    return this.#stopping;
  }
}
