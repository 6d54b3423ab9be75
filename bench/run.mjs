#!/usr/bin/env node
// `npm run bench`: runs every benchmark against the compiled Rewind (dist/), writes
// bench/results/latest.json and a dated copy, and regenerates docs/benchmarks.md.
// BENCH_QUICK=1: a short smoke run. BENCH_ONLY=data|control|nginx|cli|memory: one phase (for development).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { cleanupAll, installExitHandlers, isInterrupted } from './lib/cleanup.mjs';
import { CpuWatch } from './lib/cpu-watch.mjs';
import { findNginx } from './lib/nginx.mjs';
import { judge } from './lib/targets.mjs';
import { machine, QUICK, ROOT, say } from './lib/util.mjs';
import { agentMemory } from './phases/agent-memory.mjs';
import { cliStart } from './phases/cli-start.mjs';
import { controlPlane } from './phases/control-plane.mjs';
import { dataPlane } from './phases/data-plane.mjs';
import { nginxMode } from './phases/nginx-mode.mjs';
import { renderReport } from './report.mjs';

const cfg = QUICK
  ? {
      rollbacks: 5,
      probeWorkers: 4,
      proxyRounds: 2,
      proxySeconds: 1,
      warmupSeconds: 1,
      connections: 32,
      switches: 10,
      agentRestarts: 3,
      releases: 10_000,
      listRequests: 200,
      createRequests: 100,
      cliRounds: 5,
      memoryApps: 5,
      memoryRequests: 20,
    }
  : {
      rollbacks: 50,
      probeWorkers: 4,
      proxyRounds: 5,
      proxySeconds: 3,
      warmupSeconds: 1,
      connections: 32,
      switches: 100,
      agentRestarts: 10,
      releases: 100_000,
      listRequests: 1000,
      createRequests: 1000,
      cliRounds: 30,
      memoryApps: 50,
      memoryRequests: 100,
    };
const only = process.env.BENCH_ONLY;
const wanted = (phase) => !only || only.split(',').includes(phase);

installExitHandlers();
const started = Date.now();
const nginx = findNginx();
const result = {
  schema: 1,
  date: new Date().toISOString(),
  quick: QUICK,
  config: cfg,
  machine: machine(),
  nginx: { bin: nginx.bin, version: nginx.version, reason: nginx.reason ?? null },
  errors: {},
  seconds: {},
  cpu: {},
  loadAfter: {},
};
say(
  `${QUICK ? 'quick' : 'full'} run on ${result.machine.cpu} (${result.machine.cores} cores), node ${result.machine.node}; nginx: ${nginx.version ?? nginx.reason}`,
);

async function phase(name, fn) {
  if (!wanted(name) || isInterrupted()) return undefined;
  const t = Date.now();
  const cpu = new CpuWatch().start();
  try {
    return await fn();
  } catch (err) {
    say(`${name} failed: ${err.stack ?? err}`);
    result.errors[name] = String(err.message ?? err).split('\n')[0];
    return undefined;
  } finally {
    await cleanupAll();
    result.cpu[name] = cpu.stop();
    result.loadAfter[name] = Math.round(loadavg()[0] * 100) / 100;
    result.seconds[name] = Math.round((Date.now() - t) / 100) / 10;
  }
}

result.dataPlane = await phase('data', () => dataPlane(cfg, nginx));
result.nginxMode = await phase('nginx', () => nginxMode(cfg, nginx));
result.controlPlane = await phase('control', () => controlPlane(cfg));
result.cliStart = await phase('cli', () => cliStart(cfg));
result.agentMemory = await phase('memory', () => agentMemory(cfg));
result.seconds.total = Math.round((Date.now() - started) / 100) / 10;
result.targets = judge(result);

// Only a full run of every phase replaces the published results; quick and partial runs write
// bench/results/scratch.{json,md} (ignored by git).
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
mkdirSync(join(ROOT, 'docs'), { recursive: true });
const text = `${JSON.stringify(result, null, 2)}\n`;
const write = (file, content) => {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
  return file.slice(ROOT.length + 1);
};
const written = [];
if (QUICK || only) {
  written.push(write(join(dir, 'scratch.json'), text), write(join(dir, 'scratch.md'), renderReport(result)));
} else {
  const stamp = result.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  written.push(
    write(join(dir, `${stamp}.json`), text),
    write(join(dir, 'latest.json'), text),
    write(join(ROOT, 'docs', 'benchmarks.md'), renderReport(result)),
  );
}
say(`done in ${result.seconds.total} s: ${written.join(', ')}`);
for (const t of result.targets) say(`${t.met === true ? 'MET   ' : t.met === false ? 'MISSED' : 'n/a   '} ${t.target}: ${t.value} — ${t.note}`);
process.exit(Object.keys(result.errors).length ? 1 : 0);
