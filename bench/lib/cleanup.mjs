// Everything a benchmark run starts is registered here and ended by pid (never by name), also on
// Ctrl-C or a crash, and its temp dirs are removed.
import { readFileSync, rmSync } from 'node:fs';
import { sleep } from './util.mjs';

const tasks = [];
let running = null;
let interrupted = false;

/** True once Ctrl-C (or a crash) started the final cleanup: start nothing new. */
export const isInterrupted = () => interrupted;

/** Registers `fn` to run at cleanup (last registered runs first); returns a function that unregisters it. */
export function onCleanup(fn) {
  tasks.push(fn);
  return () => {
    const i = tasks.indexOf(fn);
    if (i >= 0) tasks.splice(i, 1);
  };
}

export function removeDirLater(dir) {
  return onCleanup(() => rmSync(dir, { recursive: true, force: true }));
}

export function cleanupAll() {
  running ??= (async () => {
    while (tasks.length) {
      const fn = tasks.pop();
      try {
        if (process.env.BENCH_DEBUG) process.stderr.write(`[bench] cleanup: ${fn.label ?? fn.toString().slice(0, 80)}\n`);
        await fn();
      } catch (err) {
        process.stderr.write(`[bench] cleanup step failed: ${err?.message ?? err}\n`);
      }
    }
  })().finally(() => (running = null));
  return running;
}

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

/** On Ctrl-C, SIGTERM or a crash: run every cleanup task, then exit. */
export function installExitHandlers() {
  const bail = (code, why) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`[bench] ${why}: stopping everything the benchmark started\n`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => bail(130, 'interrupted'));
  process.once('SIGTERM', () => bail(143, 'terminated'));
  process.on('unhandledRejection', (err) => bail(1, `unhandled rejection: ${err?.stack ?? err}`));
}
