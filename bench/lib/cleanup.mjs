// Everything a benchmark run starts is registered here and ended by pid (never by name), also on
// Ctrl-C or a crash, and its temp dirs are removed.
import { rmSync } from 'node:fs';

// Ending a process by pid is the same for the benchmarks and the tests.
export { alive, signal, stopPid } from '../../test/support/rewind-processes.mjs';

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
