// What docker-lab.mjs and its parts share: the lab's paths, Engine API calls over its socket, steps
// with timings, waiting, and stopping a recorded pid.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';

const runDir = '/run/rewind-lab';
const varDir = '/var/lib/rewind-lab';
const stateDir = '/tmp/rewind-lab';

export const LAB = {
  runDir,
  varDir,
  stateDir,
  json: `${stateDir}/lab.json`,
  dockerdLog: `${stateDir}/dockerd.log`,
  registryLog: `${stateDir}/registry.log`,
  daemonJson: `${stateDir}/daemon.json`,
  imagesDir: `${stateDir}/images`,
  socket: `${runDir}/docker.sock`,
  pidfile: `${runDir}/dockerd.pid`,
  execRoot: `${runDir}/exec`,
  dataRoot: `${varDir}/docker`,
  registryDir: `${varDir}/registry`,
  dockerd: '/usr/sbin/dockerd',
  registryBin: '/usr/bin/docker-registry',
  busybox: '/bin/busybox',
  swarmListen: '127.0.0.1:2377',
  apiVersion: 'v1.41',
};

/**
 * One Engine API call on the lab's socket: `{ status, text, json }`. A body that is a stream is
 * piped (a build context); any other body is sent as JSON.
 */
export function engine(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const isStream = body && typeof body.pipe === 'function';
    const payload = body === undefined || isStream ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: LAB.socket,
        method,
        path: `/${LAB.apiVersion}${path}`,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
        timeout: 120_000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (isStream) body.pipe(req);
    else req.end(payload);
  });
}

/** Runs one named step and prints one line with what it did and how long it took. */
export async function step(name, fn) {
  const t0 = performance.now();
  try {
    const what = await fn();
    console.log(`lab: ${name}: ${what ?? 'ok'} (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
    return what;
  } catch (err) {
    console.log(`lab: ${name}: FAILED after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    throw err;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it is true; fails naming what it waited for. */
export async function waitFor(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Alive and not a zombie (the lab's daemons are not this process's children once it has exited). */
export function pidAlive(pid) {
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The program a pid runs, to check a recorded pid still is the lab's before signalling it. */
function programOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return '';
  }
}

/**
 * Stops one recorded pid: SIGTERM, then SIGKILL after `graceMs`, and waits until it is gone. A pid
 * that now runs another program (reused) is left alone.
 */
export async function stopPid(pid, program, graceMs) {
  if (!pidAlive(pid)) return 'already gone';
  if (!programOf(pid).endsWith(program)) return `pid ${pid} now runs ${programOf(pid) || '?'}, left alone`;
  const t0 = Date.now();
  process.kill(pid, 'SIGTERM');
  while (pidAlive(pid) && Date.now() - t0 < graceMs) await sleep(50);
  if (!pidAlive(pid)) return `stopped (pid ${pid}, SIGTERM)`;
  process.kill(pid, 'SIGKILL');
  await waitFor(`pid ${pid} to go after SIGKILL`, 10_000, () => !pidAlive(pid));
  return `killed (pid ${pid}, SIGKILL after ${graceMs / 1000} s)`;
}

function parentOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/**
 * Containers whose daemon died under them (dockerd killed): their init pids are in containerd's
 * init.pid files under the lab's exec root, each a child of a containerd-shim of the lab's
 * containerd. Kills each init, then stops its shim; returns how many it found.
 */
export async function stopOrphanTasks() {
  const tasksDir = `${LAB.execRoot}/containerd/daemon/io.containerd.runtime.v2.task`;
  if (!existsSync(tasksDir)) return 0;
  const shimOf = `-address ${LAB.execRoot}/containerd/containerd.sock`;
  let found = 0;
  for (const ns of readdirSync(tasksDir)) {
    for (const id of readdirSync(`${tasksDir}/${ns}`)) {
      const file = `${tasksDir}/${ns}/${id}/init.pid`;
      const pid = existsSync(file) ? Number.parseInt(readFileSync(file, 'utf8'), 10) : 0;
      if (!pidAlive(pid)) continue;
      const shim = parentOf(pid);
      const shimArgs = readFileSync(`/proc/${shim}/cmdline`, 'utf8').split('\0').join(' ');
      if (!shimArgs.includes(shimOf)) continue; // not ours after all: leave it
      found++;
      process.kill(pid, 'SIGKILL');
      await waitFor(`container init ${pid} to go`, 10_000, () => !pidAlive(pid));
      await stopPid(shim, 'containerd-shim-runc-v2', 5_000);
    }
  }
  return found;
}
