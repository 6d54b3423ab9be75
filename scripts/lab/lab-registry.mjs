// The lab's registry: Debian's docker-registry (2.8) as a plain process on a free loopback port,
// with its own config and storage, holding the test images so that they have repo digests.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { freePort } from '../../test/support/rewind-processes.mjs';
import { streamError, TEST_IMAGES, TEST_REPO } from './lab-images.mjs';
import { engine, LAB, pidAlive, stopPid, waitFor } from './lab-common.mjs';

function answers(addr) {
  return new Promise((resolve) => {
    const req = get(`http://${addr}/v2/`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** JSON is YAML: the config needs no YAML writer. */
function writeConfig(addr) {
  const config = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: `${LAB.registryDir}/storage` }, delete: { enabled: true } },
    http: { addr },
    health: { storagedriver: { enabled: false } },
  };
  const file = `${LAB.registryDir}/config.yml`;
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}

async function spawnRegistry(lab, writeLab) {
  mkdirSync(`${LAB.registryDir}/storage`, { recursive: true, mode: 0o700 });
  const addr = `127.0.0.1:${await freePort()}`;
  const config = writeConfig(addr);
  const log = openSync(LAB.registryLog, 'a', 0o600);
  const child = spawn(LAB.registryBin, ['serve', config], { detached: true, stdio: ['ignore', log, log], env: { PATH: '/usr/bin:/bin' } });
  closeSync(log);
  child.unref();
  lab.registry = { addr, pid: child.pid, config, storage: `${LAB.registryDir}/storage` };
  writeLab?.(lab);
  let exited = null;
  child.on('exit', (code, signal) => (exited = signal ?? code));
  await waitFor(`the registry to answer on ${addr}`, 15_000, async () => {
    if (exited !== null) throw new Error(`docker-registry exited (${exited}); see ${LAB.registryLog}`);
    return answers(addr);
  });
}

/** Tags and pushes every test image to the registry (a push of what is there already is quick). */
async function pushImages(lab) {
  const repo = `${lab.registry.addr}/${TEST_REPO}`;
  const auth = Buffer.from('{}').toString('base64');
  lab.registry.digests = {};
  for (const { tag } of TEST_IMAGES) {
    const tagged = await engine('POST', `/images/${TEST_REPO}:${tag}/tag?${new URLSearchParams({ repo, tag })}`);
    if (tagged.status !== 201) throw new Error(`tagging ${repo}:${tag} answered ${tagged.status}: ${tagged.text.trim()}`);
    const pushed = await engine('POST', `/images/${repo}/push?${new URLSearchParams({ tag })}`, undefined, { 'x-registry-auth': auth });
    const err = pushed.status !== 200 ? pushed.text.trim() : streamError(pushed.text);
    if (err) throw new Error(`pushing ${repo}:${tag} failed: ${err}`);
    const inspect = (await engine('GET', `/images/${repo}:${tag}/json`)).json;
    lab.registry.digests[`${TEST_REPO}:${tag}`] = inspect.RepoDigests.find((d) => d.startsWith(`${repo}@`));
  }
}

/** Starts the registry (or re-checks the running one) and pushes the test images. */
export async function startLabRegistry(lab, writeLab) {
  if (!existsSync(LAB.registryBin)) return `skipped: ${LAB.registryBin} is not installed (apt-get install -y --no-install-recommends docker-registry)`;
  const running = lab.registry?.pid && pidAlive(lab.registry.pid) && (await answers(lab.registry.addr));
  if (!running) await spawnRegistry(lab, writeLab);
  await pushImages(lab);
  return `${running ? 'running' : 'started'} on ${lab.registry.addr} (pid ${lab.registry.pid}), ${TEST_IMAGES.length} images pushed`;
}

export async function stopLabRegistry(lab) {
  return `registry ${await stopPid(lab.registry.pid, LAB.registryBin.split('/').pop(), 5_000)}`;
}
