#!/usr/bin/env node
// Renders a run's results as docs/benchmarks.md. `node bench/report.mjs [results.json]` re-renders
// the published page from bench/results/latest.json (or the given file) without re-running.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { judge } from './lib/targets.mjs';
import { ROOT } from './lib/util.mjs';

const v = (x, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`);
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const verdict = (met) => (met === true ? '**met**' : met === false ? '**missed**' : 'n/a');
const int = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en'));

/** Cores the rest of the machine kept busy during each phase (approximate: see bench/lib/cpu-watch.mjs). */
function cpuLine(r) {
  const parts = Object.entries(r.cpu ?? {})
    .filter(([, c]) => c)
    .map(([k, c]) => `${k} ${c.otherCores} of ${r.machine.cores} cores (the benchmark ${c.ownCores})`);
  return parts.length ? parts.join('; ') : 'not measured (Linux only)';
}

function machineSection(r) {
  const m = r.machine;
  return `## Machine and run

${table(
  ['', ''],
  [
    ['Date', r.date],
    ['CPU', `${m.cpu}, ${m.cores} cores`],
    ['Memory', `${m.memoryGb} GB`],
    ['Node', m.node],
    ['OS', m.os],
    ['Rewind commit', `${m.commit ?? '?'}${m.srcDirty ? ' (with uncommitted changes in src/)' : ''}`],
    [
      'Durable 4 KB write in the temp dir (write, fsync, rename, fsync dir)',
      m.durableWriteMs ? `p50 ${m.durableWriteMs.p50} ms, p99 ${m.durableWriteMs.p99} ms (${m.tmpdir})` : '–',
    ],
    [
      'Load average (1, 5, 15 min) at start',
      `${m.loadAtStart.join(', ')}${m.loadAtStart[0] > 0.5 ? ' — other work was running on this machine; absolute numbers suffer from it' : ''}`,
    ],
    [
      '1-min load after each phase',
      Object.entries(r.loadAfter ?? {})
        .map(([k, l]) => `${k} ${l}`)
        .join(', ') || '–',
    ],
    ['CPU used by other work during each phase', cpuLine(r)],
    ['nginx', r.nginx.version ?? r.nginx.reason],
    [
      'Run',
      `${r.quick ? 'quick (BENCH_QUICK=1)' : 'full'}, ${r.seconds.total} s (${Object.entries(r.seconds)
        .filter(([k]) => k !== 'total')
        .map(([k, s]) => `${k} ${s} s`)
        .join(', ')})`,
    ],
  ],
)}
${
  Object.keys(r.errors).length
    ? `\n**Phases that failed:** ${Object.entries(r.errors)
        .map(([k, e]) => `${k}: ${e}`)
        .join('; ')}\n`
    : ''
}`;
}

function targetsSection(r) {
  const targets = judge(r); // from the numbers, so that a re-render uses the current wording
  return `## Targets (issue 3)

${table(
  ['Target', 'Result', 'Verdict', 'Notes'],
  targets.map((t) => [t.target, t.value, verdict(t.met), t.note]),
)}
`;
}

function rollbackSection(dp) {
  const rb = dp.rollbacks;
  const line = (name, s) => [
    name,
    `${s.succeeded}/${s.n}`,
    `${s.warmSwaps}/${s.n}`,
    `${v(s.firstMs.p50)} / ${v(s.firstMs.p99)}`,
    `**${v(s.allMs.p50)} / ${v(s.allMs.p99)}**`,
    `${v(s.apiMs.p50)} / ${v(s.apiMs.p99)}`,
    v(s.agentStartedMs?.p50),
    v(s.switchLoggedMs.p50),
    `${v(s.deploymentMs.p50)} / ${v(s.deploymentMs.p99)}`,
  ];
  return `## Rollback latency

Milliseconds from the \`POST /api/apps/APP/rollback\` call to the first answer from the target
release and to full traffic (every answer after it from the target release), measured by
${rb.probe.workers} keep-alive probe loops each sending \`GET /\` every ${rb.probe.everyMs} ms
through the app's URL. *Route swaps* counts rollbacks whose traffic went to processes that were
already running before the call (a warm standby); the others started new processes. *API answer*:
the \`202\` of the rollback call; *agent starts* and *agent switched*: when the agent logged the start
of the rollout and the switch of the route (its clock, millisecond resolution); *deployment done*:
when the deployment's event stream ended.

${table(['Rollback', 'succeeded', 'route swaps', 'first p50 / p99', 'all p50 / p99', 'API answer p50 / p99', 'agent starts p50', 'agent switched p50', 'deployment done p50 / p99'], [line('warm (to the previous release)', rb.warm), line('cold (to a release neither live nor previous)', rb.cold)])}

Probe requests: ${int(rb.probe.sent)} sent, ${rb.probe.failed} failed${rb.probe.failures.length ? ` (${[...new Set(rb.probe.failures)].join(', ')})` : ''}; round trip p50 ${v(rb.probe.latencyMs?.p50)} ms, p99 ${v(rb.probe.latencyMs?.p99)} ms.
The slowest probe request of each rollback (how long the data plane held a request during the
switch): warm p50 ${v(rb.warm.slowestProbeMs?.p50)} ms, max ${v(rb.warm.slowestProbeMs?.max)} ms; cold p50 ${v(rb.cold.slowestProbeMs?.p50)} ms, max ${v(rb.cold.slowestProbeMs?.max)} ms.
`;
}

function switchesSection(sw) {
  return `## Failed requests during switches under load

${sw.n} switches (${sw.kinds.rollback} rollbacks to the previous release, ${sw.kinds.config} deploys of a config change, ${sw.kinds.source} deploys of uploaded source),
one after the other, while autocannon, in a separate process, kept a steady ${int(sw.loadRps)} req/s — half of the proxy's measured capacity of ${int(sw.capacityRps)} req/s — on the app's URL.

${table(
  ['', ''],
  [
    ['Requests', int(sw.load.requests)],
    ['**Failed**', `**${sw.failedRequests}** (errors ${sw.load.errors}, timeouts ${sw.load.timeouts}, non-2xx ${sw.load.non2xx})`],
    ['Latency under load p50 / p99 / max', `${v(sw.load.latencyMs?.p50)} / ${v(sw.load.latencyMs?.p99)} / ${v(sw.load.latencyMs?.max)} ms`],
    ['Switch (API call to deployment done) p50 / p99', `${v(sw.switchMs.p50)} / ${v(sw.switchMs.p99)} ms`],
    ['Deployments that failed', sw.deploymentsFailed],
    ['Duration', `${sw.seconds} s`],
  ],
)}
`;
}

function restartSection(ar) {
  if (!ar) return '';
  return `## Agent restart (SIGKILL)

${ar.n} times: the agent was killed with SIGKILL (its instances, in their own process groups, kept
running), then a new agent process was started as the server starts one. Timed from that spawn to the
first \`200\` from the app's port (a new connection every 2 ms): node's start-up, loading the code,
reading the state file and re-adopting the instances included.

${table(
  ['', ''],
  [
    ['Serving again p50 / max', `${v(ar.servedMs.p50)} / ${v(ar.servedMs.max)} ms`],
    ['Re-adopted every instance (same pids, standby included)', `${ar.readopted}/${ar.n}`],
  ],
)}
`;
}

function proxySection(px) {
  const line = (name, p, ratio) =>
    p
      ? [name, int(p.rps), v(ratio), v(p.p50Ms, ' ms'), v(p.p99Ms, ' ms'), v(p.proxyCores), v(p.backendCores), p.failed]
      : [name, 'not measured', '–', '–', '–', '–', '–', '–'];
  return `## Proxy throughput

The same backend instance (a Node \`http\` server answering ~60 bytes) reached directly, through
Rewind's built-in proxy (the app's URL: one Node event loop in the agent), through nginx configured
by hand (its own master process, \`worker_processes auto\`, upstream keep-alive), and — as a reference for what Node's HTTP stack costs —
through the simplest streaming proxy Node can do (\`bench/lib/node-proxy.mjs\`: an undici Pool,
no header handling, no retries, no drain accounting). autocannon, ${px.connections} connections,
${px.seconds} s per measurement after a 1 s warm-up, ${px.rounds} interleaved round(s); medians.
CPU columns: cores each process used during the measurement (\`/proc/PID/stat\`; the agent for
Rewind's proxy, master and workers for nginx).

${table(
  ['Path', 'req/s', '× direct', 'p50', 'p99', 'proxy CPU (cores)', 'backend CPU (cores)', 'failed'],
  [
    line('direct', px.direct, 1),
    line("Rewind's proxy", px.rewind, px.ratios.rewindVsDirect),
    ...(px.minimalNode ? [line('minimal Node proxy (reference)', px.minimalNode, px.ratios.minimalNodeVsDirect)] : []),
    px.nginx ? line('nginx (by hand)', px.nginx, px.ratios.nginxVsDirect) : ['nginx (by hand)', px.nginxNote, '–', '–', '–', '–', '–', '–'],
  ],
)}

Rewind's proxy ÷ nginx: **${v(px.ratios.rewindVsNginx, '×')}**; Rewind's proxy ÷ the minimal Node proxy: ${v(px.ratios.rewindVsMinimalNode, '×')}.
`;
}

function nginxModeSection(nm) {
  if (!nm?.available) return `## nginx data plane (\`rewind agent --proxy nginx\`)\n\nNot measured: ${nm?.reason ?? 'phase skipped'}.\n`;
  return `## nginx data plane (\`rewind agent --proxy nginx\`)

The agent started with \`rewind agent --proxy nginx\` (its own nginx masters: ${nm.masters}) serves a
second app; a hand-configured nginx (as above) proxies to the same instance. Same autocannon settings.

${table(
  ['Path', 'req/s', 'p50', 'p99', 'nginx CPU (cores)', 'backend CPU (cores)'],
  [
    [
      'nginx by hand',
      int(nm.handNginx.rps),
      v(nm.handNginx.p50Ms, ' ms'),
      v(nm.handNginx.p99Ms, ' ms'),
      v(nm.handNginx.proxyCores),
      v(nm.handNginx.backendCores),
    ],
    [
      'Rewind, nginx data plane',
      int(nm.rewindNginx.rps),
      v(nm.rewindNginx.p50Ms, ' ms'),
      v(nm.rewindNginx.p99Ms, ' ms'),
      v(nm.rewindNginx.proxyCores),
      v(nm.rewindNginx.backendCores),
    ],
  ],
)}

Ratio: **${nm.ratioVsHandNginx}×**. ${nm.switches.n} switches under ${int(nm.switches.loadRps)} req/s: **${nm.switches.failedRequests}** failed requests of ${int(nm.switches.load.requests)}.
`;
}

function controlSection(cp) {
  const c = (x) => [
    x.clients,
    int(x.created),
    `${x.requests}`,
    int(x.perSecond),
    `${v(x.latencyMs.p50)} / ${v(x.latencyMs.p99)} ms`,
    Object.entries(x.statuses)
      .map(([s, n]) => `${s}×${n}`)
      .join(', '),
  ];
  return `## Control plane

${int(cp.releases)} releases in one environment, inserted through \`dist/store\` (${cp.insertSeconds} s) before the server started.

${table(
  ['Request', 'n', 'p50', 'p99', 'mean', 'max'],
  [
    ['`GET /api/apps/APP/releases?limit=20`', cp.list.n, v(cp.list.p50, ' ms'), `**${v(cp.list.p99, ' ms')}**`, v(cp.list.mean, ' ms'), v(cp.list.max, ' ms')],
    ...(cp.health
      ? [
          [
            '`GET /api/health` (reference: the same server, no query)',
            cp.health.n,
            v(cp.health.p50, ' ms'),
            v(cp.health.p99, ' ms'),
            v(cp.health.mean, ' ms'),
            v(cp.health.max, ' ms'),
          ],
        ]
      : []),
    [
      'the release list again, after the creations below',
      cp.listAfterCreates.n,
      v(cp.listAfterCreates.p50, ' ms'),
      v(cp.listAfterCreates.p99, ' ms'),
      v(cp.listAfterCreates.mean, ' ms'),
      v(cp.listAfterCreates.max, ' ms'),
    ],
  ],
)}

Releases created through the API (\`POST /api/apps/APP/env\`, \`promote: false\`), one request per release:

${table(['Clients', 'created', 'requests', 'releases/s', 'latency p50 / p99', 'statuses'], [c(cp.create.sequential), c(cp.create.concurrent)])}
`;
}

function cliSection(cli) {
  const rows = [
    ['`node -e 0`', 'node'],
    ['`rewind --version`', 'version'],
    ['`rewind releases -a APP`', 'releases'],
    ['`rewind releases rollback --help`', 'rollbackHelp'],
  ].map(([label, key]) => [label, v(cli.ms[key], ' ms'), key === 'node' ? '1.00×' : v(cli.ratio[key], '×')]);
  return `## CLI start

From exec to exit, medians of ${cli.rounds} rounds that run the commands in a new order each time.

${table(['command', 'median', '× node -e 0'], rows)}
`;
}

function memorySection(r) {
  const rows = [];
  for (const [phase, m] of Object.entries(r.dataPlane?.memory ?? {}))
    rows.push([`data plane, after ${phase}`, v(m.agent?.peakMb, ' MB'), v(m.agent?.rssMb, ' MB'), v(m.server?.peakMb, ' MB'), v(m.server?.rssMb, ' MB')]);
  if (r.nginxMode?.memory)
    rows.push([
      'nginx data plane',
      v(r.nginxMode.memory.agent?.peakMb, ' MB'),
      v(r.nginxMode.memory.agent?.rssMb, ' MB'),
      v(r.nginxMode.memory.server?.peakMb, ' MB'),
      v(r.nginxMode.memory.server?.rssMb, ' MB'),
    ]);
  if (r.agentMemory?.serving)
    rows.push([`${r.agentMemory.apps} apps served (agent only)`, v(r.agentMemory.serving.peakMb, ' MB'), v(r.agentMemory.serving.rssMb, ' MB'), '–', '–']);
  if (r.controlPlane?.memory)
    rows.push([
      `control plane (${int(r.controlPlane.releases)} releases)`,
      v(r.controlPlane.memory.agent?.peakMb, ' MB'),
      v(r.controlPlane.memory.agent?.rssMb, ' MB'),
      v(r.controlPlane.memory.server?.peakMb, ' MB'),
      v(r.controlPlane.memory.server?.rssMb, ' MB'),
    ]);
  return `## Memory

Peak resident memory (\`VmHWM\`, since the process started) and current RSS (\`VmRSS\`) from \`/proc/PID/status\`.
The data-plane rows are one agent and one server across the rollback, proxy and switch runs.

${table(['When', 'agent peak', 'agent RSS', 'server peak', 'server RSS'], rows)}
`;
}

const METHOD = `## How to run, and what is measured

\`\`\`sh
npm ci
npm run bench                 # builds, runs everything (3-5 minutes on 2 cores after the build), rewrites this page
BENCH_QUICK=1 npm run bench   # smoke run (about 1 minute after the build): fewer iterations; writes bench/results/scratch.{json,md} only
BENCH_ONLY=data npm run bench # one phase (data, nginx, control); also writes scratch files only
node bench/report.mjs         # re-render this page from bench/results/latest.json
\`\`\`

A full run writes \`bench/results/latest.json\` and a dated copy, and regenerates this page. Every
process a run starts (servers, agents, app instances, nginx, load generators) is stopped by its
pid or process group, also on Ctrl-C, and every temp dir is removed. nginx is looked for in the usual
places (or \`BENCH_NGINX=/path/to/nginx\`); without it the nginx comparisons are reported as not measured.

- **App**: \`bench/app\` — a Node \`http\` server that answers \`version=vN release=R…\` (from
  \`REWIND_RELEASE\`), health check \`/health\` every 100 ms. Three builds (v1, v2, v3) are deployed
  with the CLI.
- **Warm rollback**: \`rollback\` to the previous release, repeatedly (v3 ⇄ v2): the target is always the
  release that served just before, the one a warm standby keeps. **Cold rollback**: \`rollback\` to the
  version that is neither live nor the previous one (cycling v1 → v2 → v3), which a standby of one
  release does not hold. The servers run with \`REWIND_STANDBY_COUNT=1\`, \`REWIND_STANDBY_MINUTES=15\`
  (the defaults, pinned) and every other setting at its default.
  Whether each rollback really was a route swap is checked, not assumed: the pids serving after it are
  compared with the pids that ran before it.
- **Switches under load**: capacity is the proxy's throughput measured just before; the load runs in a
  separate process at half that rate with a 10 s request timeout; any error, timeout or non-2xx
  answer counts as failed.
- **Agent restart**: after the switches, with the same app; the restarted agent is the one the
  server then talks to.
- **Proxy throughput**: measured with nothing else running; on 2 cores the load generator, the proxy and
  the backend compete for the CPU, so the ratios say more than the absolute numbers.
- **Release list**: sequential requests on one keep-alive connection after 100 warm-up requests,
  timed at the client (HTTP included).
`;

export function renderReport(r) {
  const parts = [
    `# Benchmarks\n\n_Generated by \`npm run bench\` (\`bench/\`) on ${r.date.slice(0, 10)}. Do not edit by hand: the next full run rewrites this page._\n`,
    targetsSection(r),
    machineSection(r),
  ];
  if (r.dataPlane)
    parts.push(rollbackSection(r.dataPlane), switchesSection(r.dataPlane.switches), restartSection(r.dataPlane.agentRestarts), proxySection(r.dataPlane.proxy));
  parts.push(nginxModeSection(r.nginxMode));
  if (r.controlPlane) parts.push(controlSection(r.controlPlane));
  if (r.cliStart) parts.push(cliSection(r.cliStart));
  parts.push(memorySection(r), METHOD);
  return parts.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2] ?? join(ROOT, 'bench', 'results', 'latest.json');
  const out = join(ROOT, 'docs', 'benchmarks.md');
  writeFileSync(`${out}.tmp`, renderReport(JSON.parse(readFileSync(file, 'utf8'))));
  renameSync(`${out}.tmp`, out);
  process.stdout.write(`wrote ${out} from ${file}\n`);
}
