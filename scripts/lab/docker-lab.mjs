#!/usr/bin/env node
// Rewind's Docker lab for tests and CI: a Docker daemon of its own (Debian's dockerd 20.10) on its
// own socket, data root, exec root and pidfile, a single-node swarm on 127.0.0.1, test images built
// locally with no network (FROM scratch + Debian's static busybox httpd), and Debian's
// docker-registry on a loopback port when it is installed. Everything it starts is recorded in
// /tmp/rewind-lab/lab.json (0600) and stopped by those pids. What works for Docker on these
// machines: ../shared/notes/containers-here.md (from the repo root).
//
// Usage: node scripts/lab/docker-lab.mjs start [--no-registry]   (idempotent: re-checks a running lab)
//        node scripts/lab/docker-lab.mjs stop
//        node scripts/lab/docker-lab.mjs status                   (prints lab.json; exit 1 if not running)
//        node scripts/lab/docker-lab.mjs get dockerHost|registry  (one value, for .ci/run)
// Tests find the daemon at REWIND_TEST_DOCKER_HOST=unix:///run/rewind-lab/docker.sock and the registry
// at REWIND_TEST_REGISTRY=127.0.0.1:PORT (`start` prints both).
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { startLabRegistry, stopLabRegistry } from './lab-registry.mjs';
import { buildTestImages } from './lab-images.mjs';
import { engine, LAB, pidAlive, step, stopOrphanTasks, stopPid, waitFor } from './lab-common.mjs';

const EXT4_MAGIC = 0xef53;
const OVERLAYFS_MAGIC = 0x794c7630;

function readLab() {
  if (!existsSync(LAB.json)) return null;
  return JSON.parse(readFileSync(LAB.json, 'utf8'));
}

function writeLab(lab) {
  mkdirSync(dirname(LAB.json), { recursive: true, mode: 0o700 });
  writeFileSync(LAB.json, `${JSON.stringify(lab, null, 2)}\n`, { mode: 0o600 });
  chmodSync(LAB.json, 0o600);
}

/** Docker's overlay2 cannot sit on overlayfs ("invalid argument"): refuse early, with the way out. */
function checkDataFilesystem() {
  mkdirSync(LAB.varDir, { recursive: true, mode: 0o700 });
  const { type } = statfsSync(LAB.varDir);
  if (type === OVERLAYFS_MAGIC) throw new Error(`${LAB.varDir} is on overlayfs, where Docker's overlay2 fails; bind an ext4 directory onto it`);
  return type === EXT4_MAGIC ? 'ext4' : `filesystem 0x${type.toString(16)}`;
}

/** True when an ELF64 executable asks for a dynamic loader (PT_INTERP): it cannot run FROM scratch. */
function isDynamicElf(file) {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false; // not ELF64 little-endian: do not guess
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

function checkTools() {
  for (const [file, pkg] of [
    [LAB.dockerd, 'docker.io'],
    ['/usr/sbin/iptables', 'iptables'],
    [LAB.busybox, 'busybox-static'],
  ]) {
    if (!existsSync(file)) throw new Error(`${file} is missing; install it: apt-get install -y --no-install-recommends ${pkg}`);
  }
  if (isDynamicElf(LAB.busybox))
    throw new Error(`${LAB.busybox} is linked dynamically (Debian's busybox); the images need busybox-static: apt-get install -y busybox-static`);
}

/** The network interfaces present now, so that stop removes only the ones dockerd made. */
function interfaces() {
  return readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean);
}

function dockerdArgs() {
  // Docker may not touch the host's iptables or ip_forward (a shared machine): the lab needs only
  // loopback, where docker-proxy serves host-mode published ports; --ip keeps them on 127.0.0.1.
  return [
    `--host=unix://${LAB.socket}`,
    `--data-root=${LAB.dataRoot}`,
    `--exec-root=${LAB.execRoot}`,
    `--pidfile=${LAB.pidfile}`,
    `--config-file=${LAB.daemonJson}`,
    '--containerd-namespace=rewind-lab',
    '--containerd-plugins-namespace=rewind-lab-plugins',
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--ip=127.0.0.1',
    '--storage-driver=overlay2',
    '--log-level=warn',
  ];
}

async function startDockerd(lab) {
  for (const d of [LAB.runDir, LAB.stateDir, LAB.dataRoot]) mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileSync(LAB.daemonJson, '{}\n', { mode: 0o600 });
  const log = openSync(LAB.dockerdLog, 'a', 0o600);
  // detached: setsid(), so the daemon outlives this script and CI's process group.
  const child = spawn(LAB.dockerd, dockerdArgs(), {
    detached: true,
    stdio: ['ignore', log, log],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
  });
  closeSync(log);
  child.unref();
  lab.pids.dockerd = child.pid;
  writeLab(lab);
  let exited = null;
  child.on('exit', (code, signal) => (exited = signal ?? code));
  await waitFor('dockerd to answer GET /_ping', 30_000, async () => {
    if (exited !== null) throw new Error(`dockerd exited (${exited}) before answering; see ${LAB.dockerdLog}:\n${logTail(LAB.dockerdLog)}`);
    return (await engine('GET', '/_ping').catch(() => null))?.status === 200;
  });
  shareWithSudoUser();
  const containerdPid = readPid(`${LAB.execRoot}/containerd/containerd.pid`);
  if (containerdPid) lab.pids.containerd = containerdPid;
  writeLab(lab);
  return `pid ${child.pid}, containerd ${containerdPid ?? '?'}`;
}

/** Under sudo, the socket goes to the user who ran it: the tests run as that user (who is root through sudo anyway). */
function shareWithSudoUser() {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid)) return;
  chownSync(LAB.runDir, uid, gid);
  chownSync(LAB.socket, uid, gid);
}

function readPid(file) {
  if (!existsSync(file)) return null;
  const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : null;
}

function logTail(file, lines = 15) {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

async function initSwarm(lab) {
  const info = (await engine('GET', '/info')).json;
  if (info.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable) {
    lab.swarm = { nodeId: info.Swarm.NodeID };
    return `already a manager (node ${info.Swarm.NodeID})`;
  }
  const res = await engine('POST', '/swarm/init', { ListenAddr: LAB.swarmListen, AdvertiseAddr: '127.0.0.1' });
  if (res.status !== 200) throw new Error(`swarm init answered ${res.status}: ${res.text.trim()}`);
  lab.swarm = { nodeId: res.json };
  return `node ${res.json}, listening on ${LAB.swarmListen}`;
}

/** The lab already runs: check the daemon, the swarm, the images and the registry again. */
async function recheck(lab, options) {
  await step('dockerd answers', async () => {
    const v = (await engine('GET', '/version')).json;
    return `pid ${lab.pids.dockerd}, Engine ${v.Version}, API ${v.ApiVersion}`;
  });
  await step('swarm', () => initSwarm(lab));
  await step('test images', () => buildTestImages(lab));
  if (options.registry) await step('registry', () => startLabRegistry(lab));
  writeLab(lab);
}

async function start(options) {
  const lab = readLab();
  if (lab && pidAlive(lab.pids.dockerd) && (await engine('GET', '/_ping').catch(() => null))?.status === 200) {
    console.log(`lab: already running (${LAB.json}); checking it again`);
    await recheck(lab, options);
    return printEnv(lab);
  }
  if (lab) {
    console.log('lab: a previous lab is recorded but does not answer; stopping what is left of it first');
    await stop();
  }
  const fresh = { version: 1, startedAt: new Date().toISOString(), dockerHost: `unix://${LAB.socket}`, socket: LAB.socket, pids: {} };
  Object.assign(fresh, { dataRoot: LAB.dataRoot, execRoot: LAB.execRoot, pidfile: LAB.pidfile, dirs: [LAB.varDir, LAB.runDir], logs: LAB.stateDir });
  await step('preflight', () => {
    checkTools();
    if (existsSync(LAB.socket)) rmSync(LAB.socket); // nothing answers on it (checked above)
    fresh.interfacesBefore = interfaces();
    return `data root ${LAB.dataRoot} on ${checkDataFilesystem()}`;
  });
  await step('dockerd', () => startDockerd(fresh));
  await step('swarm init', () => initSwarm(fresh));
  writeLab(fresh);
  await step('test images', () => buildTestImages(fresh));
  writeLab(fresh);
  if (options.registry) {
    await step('registry', () => startLabRegistry(fresh, writeLab));
    writeLab(fresh);
  }
  printEnv(fresh);
}

function printEnv(lab) {
  console.log(`export REWIND_TEST_DOCKER_HOST=${lab.dockerHost}`);
  if (lab.registry?.addr) console.log(`export REWIND_TEST_REGISTRY=${lab.registry.addr}`);
}

async function removeServices() {
  const services = (await engine('GET', '/services')).json ?? [];
  for (const s of services) await engine('DELETE', `/services/${encodeURIComponent(s.ID)}`);
  // Their containers stop with a grace of their own; wait so that dockerd stops with none running.
  await waitFor('the services’ containers to stop', 30_000, async () => ((await engine('GET', '/containers/json')).json ?? []).length === 0);
  return `${services.length} removed`;
}

async function leaveSwarm() {
  const res = await engine('POST', '/swarm/leave?force=true');
  return res.status === 200 ? 'left' : `not in a swarm (${res.status})`;
}

async function stopDaemons(lab) {
  const done = [];
  if (lab.registry?.pid) done.push(await stopLabRegistry(lab));
  if (lab.pids?.dockerd) done.push(`dockerd ${await stopPid(lab.pids.dockerd, 'dockerd', 20_000)}`);
  // dockerd stops the containerd it started; one left behind (dockerd killed) is stopped by its pid.
  const containerd = lab.pids?.containerd ?? readPid(`${LAB.execRoot}/containerd/containerd.pid`);
  if (containerd) done.push(`containerd ${await stopPid(containerd, 'containerd', 10_000)}`);
  return done.join(', ') || 'nothing recorded';
}

/** Mounts dockerd left under the lab's dirs (netns files, overlay layers of a killed daemon). */
async function unmountLeftovers() {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && [LAB.varDir, LAB.runDir].some((d) => p === d || p.startsWith(`${d}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]);
  return mounts.length;
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code));
  });
}

const DOCKER_BRIDGES = ['docker0', 'docker_gwbridge'];

function masterOf(name) {
  try {
    return readlinkSync(`/sys/class/net/${name}/master`).split('/').pop();
  } catch {
    return null;
  }
}

/**
 * The bridges dockerd made (docker0, docker_gwbridge: not there before the lab) and the veths on
 * them; another tool's interfaces (a test host's veth on its own bridge) are left alone.
 */
async function removeInterfaces(lab) {
  if (!lab.interfacesBefore) return 'none recorded';
  const before = new Set(lab.interfacesBefore);
  const bridges = DOCKER_BRIDGES.filter((b) => !before.has(b));
  const now = interfaces();
  const veths = now.filter((n) => !before.has(n) && n.startsWith('veth') && bridges.includes(masterOf(n)));
  const made = [...veths, ...bridges.filter((b) => now.includes(b))];
  for (const n of made) await run('ip', ['link', 'delete', n]);
  return made.length ? made.join(', ') : 'none';
}

async function stop() {
  const recorded = readLab();
  const lab = recorded ?? { pids: { dockerd: readPid(LAB.pidfile) } };
  if (!recorded) console.log(`lab: ${LAB.json} is missing; stopping by ${LAB.pidfile} if any`);
  // Every step runs even when one before it failed: a stop that gives up halfway leaves daemons behind.
  const failed = [];
  const attempt = (name, fn) => step(name, fn).catch((err) => failed.push(`${name}: ${err.message}`));
  if ((await engine('GET', '/_ping').catch(() => null))?.status === 200) {
    await attempt('remove services', () => removeServices());
    await attempt('leave swarm', () => leaveSwarm());
  }
  await attempt('stop daemons', () => stopDaemons(lab));
  await attempt('stop orphaned containers', async () => `${await stopOrphanTasks()} found`);
  await attempt('unmount leftovers', () => unmountLeftovers());
  await attempt('remove interfaces', () => removeInterfaces(lab));
  await attempt('remove files', () => {
    for (const p of [LAB.socket, LAB.json, LAB.daemonJson, LAB.imagesDir, LAB.varDir, LAB.runDir]) rmSync(p, { recursive: true, force: true });
    return `${LAB.varDir}, ${LAB.runDir}, ${LAB.json} (logs kept in ${LAB.stateDir})`;
  });
  if (failed.length) throw new Error(failed.join('; '));
}

async function status() {
  const lab = readLab();
  const ok = lab && pidAlive(lab.pids.dockerd) && (await engine('GET', '/_ping').catch(() => null))?.status === 200;
  console.log(lab ? JSON.stringify(lab, null, 2) : `no lab recorded at ${LAB.json}`);
  if (!ok) process.exitCode = 1;
}

/** One value of the running lab for a script: `get dockerHost`, `get registry` (empty without one). */
async function get(key) {
  const lab = readLab();
  if (!lab) throw new Error(`no lab recorded at ${LAB.json}; run: node scripts/lab/docker-lab.mjs start`);
  const values = { dockerHost: lab.dockerHost, registry: lab.registry?.addr ?? '' };
  if (!(key in values)) throw new Error(`get takes one of ${Object.keys(values).join(', ')}, not ${key}`);
  process.stdout.write(`${values[key]}\n`);
}

const USAGE = 'usage: node scripts/lab/docker-lab.mjs start [--no-registry] | stop | status | get dockerHost|registry';
const [command, ...flags] = process.argv.slice(2);
const t0 = performance.now();
const actions = { start: () => start({ registry: !flags.includes('--no-registry') }), stop, status, get: () => get(flags[0]) };
if (!Object.hasOwn(actions, command)) {
  console.error(USAGE);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('lab: run it as root (it starts dockerd); in CI, .ci/run does');
  process.exit(2);
}
actions[command]()
  .then(() => {
    if (command === 'start' || command === 'stop') console.log(`lab: ${command} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  })
  .catch((err) => {
    console.error(`lab: ${command} failed: ${err.message}`);
    process.exit(1);
  });
