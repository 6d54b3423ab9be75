// Small helpers shared by the benchmark phases: statistics, ports, machine facts, memory.
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'rewind.js');
export const QUICK = process.env.BENCH_QUICK === '1';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const round = (n, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? null : Number(n.toFixed(digits)));

/** Nearest-rank percentile of `values` (q in 0..1); null when empty. */
export function percentile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const median = (values) => percentile(values, 0.5);

/** { n, p50, p99, min, max, mean } in the unit of `values`, rounded. */
export function summary(values) {
  if (values.length === 0) return { n: 0, p50: null, p99: null, min: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return {
    n: values.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

export { freePort } from '../../test/support/rewind-processes.mjs';

/** Peak and current resident memory of `pid` in MB (Linux /proc), or null elsewhere / when gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakMb: round(kb('VmHWM') / 1024, 1), rssMb: round(kb('VmRSS') / 1024, 1) };
  } catch {
    return null;
  }
}

/**
 * How long a durable small-file write takes in the temp dir (where the benchmark's data dirs live):
 * write 4 KB, fsync, rename, fsync the directory — what a crash-safe state file costs.
 */
export function fsyncLatency(n = 30) {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-fsync-'));
  const ms = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const fd = openSync(join(dir, 'f.tmp'), 'w');
      writeSync(fd, 'x'.repeat(4096));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(join(dir, 'f.tmp'), join(dir, 'f'));
      const d = openSync(dir, 'r');
      try {
        fsyncSync(d);
      } catch {}
      closeSync(d);
      ms.push(performance.now() - t);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return summary(ms);
}

export function machine() {
  const cpu = cpus();
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {}
  return {
    cpu: cpu[0]?.model?.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadAtStart: loadavg().map((l) => round(l, 2)),
    tmpdir: tmpdir(),
    durableWriteMs: fsyncLatency(),
    commit,
    srcDirty: dirty,
  };
}

/** Logs a progress line on stderr (stdout stays quiet). */
export function say(...parts) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${parts.join(' ')}\n`);
}
