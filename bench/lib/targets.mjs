// The issue's targets, judged against one run's results: met, missed (by how much), or not measured.

const times = (value, limit) => `${(value / limit).toFixed(1)}× the target`;

/** What limits the built-in proxy, read from the reference measurements of the same run. */
function proxyBound(px, cores) {
  const share = px.ratios.rewindVsMinimalNode;
  const cpu = px.rewind.proxyCores != null ? `the agent used ${px.rewind.proxyCores} cores while nginx used ${px.nginx.proxyCores}; ` : '';
  if (share === null || share === undefined) return `bound: one Node event loop per proxy, sharing ${cores} cores with the backend and the load generator`;
  const minimal = `the simplest undici proxy reaches ${(px.minimalNode.rps / px.nginx.rps).toFixed(2)}× nginx in the same run`;
  return (
    cpu +
    (share >= 0.8
      ? `bound: Node's HTTP stack — ${minimal}, and Rewind's proxy does ${share}× of that (one event loop, sharing ${cores} cores with the backend and the load generator)`
      : `bound: ${minimal}, Rewind's proxy only ${share}× of that: its own per-request work costs the rest`)
  );
}

/** The agent writes its state file durably, off its event loop, before it reports the rollout; what one such write costs here. */
const durable = (r) =>
  r.machine.durableWriteMs
    ? `; one durable state-file write (fsync of file and folder) takes ${r.machine.durableWriteMs.p50} ms p50 on this disk, and the deployment ends only once the agent's state file holds the switch`
    : '';

/** How much of the release list's tail the server and the machine cost alone: GET /api/health, timed alike. */
function listBound(cp, r) {
  if (!cp.health) return 'bound: not analysed';
  const other = r.cpu?.control ? `; other work on the machine used ${r.cpu.control.otherCores} of ${r.machine.cores} cores meanwhile` : '';
  return `bound: the same server answers \`GET /api/health\` (no query) with p99 ${cp.health.p99} ms and p50 ${cp.health.p50} ms — HTTP, Fastify and the machine — and the list's own work (the environment, the page of releases and their marks from SQLite, the JSON) adds about ${(cp.list.p50 - cp.health.p50).toFixed(2)} ms at p50${other}`;
}

function nginxBound(nm) {
  const cores =
    nm.rewindNginx.proxyCores != null
      ? ` (its nginx processes used ${nm.rewindNginx.proxyCores} cores, the hand-configured one ${nm.handNginx.proxyCores})`
      : '';
  return nm.masters > 1
    ? `bound: the agent runs ${nm.masters} nginx masters in tiers (a front one that keeps client connections through reloads, a back one that routes), so each request crosses two nginx proxies${cores}`
    : `bound: the agent's nginx configuration${cores}`;
}

export function judge(r) {
  const out = [];
  const dp = r.dataPlane;
  const warm = dp?.rollbacks?.warm;
  if (warm?.allMs?.p50 != null) {
    const swaps = `${warm.warmSwaps}/${warm.n} rollbacks were route swaps to processes that already ran`;
    const bound =
      warm.warmSwaps === warm.n
        ? `bound: the path from the API call to the switch — the control plane answers at ${warm.apiMs.p50} ms, the agent starts the rollout at ${warm.agentStartedMs.p50} ms and logs the switch at ${warm.switchLoggedMs.p50} ms, the first answer from the target comes at ${warm.firstMs.p50} ms (p50s); during a rollback the slowest probe request waits ${warm.slowestProbeMs?.p50} ms (p50) against a ${dp.rollbacks.probe.latencyMs?.p50} ms probe round trip (p50 over the whole run)${durable(r)}`
        : `bound: without a warm standby every rollback starts the release's processes and waits for their health check (cold p50 ${dp.rollbacks.cold.allMs.p50} ms); ${swaps}`;
    for (const [q, limit] of [
      ['p50', 20],
      ['p99', 100],
    ]) {
      const v = warm.allMs[q];
      out.push({
        id: `warm-rollback-${q}`,
        target: `warm rollback ${q} ≤ ${limit} ms to full traffic`,
        value: `${v} ms`,
        met: v <= limit,
        note: v <= limit ? swaps : `missed by ${(v - limit).toFixed(1)} ms (${times(v, limit)}); ${bound}`,
      });
    }
  } else
    out.push({
      id: 'warm-rollback',
      target: 'warm rollback p50 ≤ 20 ms, p99 ≤ 100 ms',
      value: 'not measured',
      met: null,
      note: r.errors?.data ? `failed: ${r.errors.data}` : 'data-plane phase skipped',
    });

  const sw = dp?.switches;
  if (sw) {
    const ok = sw.failedRequests === 0;
    out.push({
      id: 'zero-failed',
      target: `0 failed requests in ${sw.n} switches under load`,
      value: `${sw.failedRequests} failed of ${sw.load.requests}`,
      met: ok && sw.n >= 100 ? true : ok ? null : false,
      note: ok
        ? `${sw.n} switches (${sw.kinds.rollback} rollbacks, ${sw.kinds.config + sw.kinds.source} deploys) at ${sw.loadRps} req/s${sw.n < 100 ? '; fewer than 100 switches, not a verdict' : ''}`
        : `errors ${sw.load.errors}, timeouts ${sw.load.timeouts}, non-2xx ${sw.load.non2xx}`,
    });
  }

  const ar = dp?.agentRestarts;
  if (ar?.servedMs?.p50 != null) {
    const v = ar.servedMs.max;
    out.push({
      id: 'agent-restart',
      target: 'agent SIGKILL, then a new agent: serving again within 1 s (every time)',
      value: `max ${v} ms (p50 ${ar.servedMs.p50} ms)`,
      met: v <= 1000 && ar.readopted === ar.n,
      note: `${ar.readopted}/${ar.n} restarts re-adopted every instance (same pids)${v <= 1000 ? '' : `; missed by ${(v - 1000).toFixed(0)} ms (${times(v, 1000)}): node's start-up and module loading come first`}`,
    });
  }

  const px = dp?.proxy;
  if (px) {
    if (px.nginx) {
      const ratio = px.ratios.rewindVsNginx;
      out.push({
        id: 'proxy-vs-nginx',
        target: 'built-in proxy ≥ 0.5× nginx throughput',
        value: `${ratio}× (${px.rewind.rps} vs ${px.nginx.rps} req/s)`,
        met: ratio >= 0.5,
        note:
          ratio >= 0.5
            ? `p99 ${px.rewind.p99Ms} ms vs ${px.nginx.p99Ms} ms`
            : `missed by ${(0.5 - ratio).toFixed(3)}× (p99 ${px.rewind.p99Ms} ms vs ${px.nginx.p99Ms} ms); ${proxyBound(px, r.machine.cores)}`,
      });
    } else out.push({ id: 'proxy-vs-nginx', target: 'built-in proxy ≥ 0.5× nginx throughput', value: 'not measured', met: null, note: px.nginxNote });
  }

  const nm = r.nginxMode;
  if (nm?.available) {
    const ratio = nm.ratioVsHandNginx;
    out.push({
      id: 'nginx-data-plane',
      target: 'nginx data plane ≥ 0.95× hand-configured nginx',
      value: `${ratio}×`,
      met: ratio >= 0.95,
      note: `${ratio >= 0.95 ? '' : `missed by ${(0.95 - ratio).toFixed(3)}×; ${nginxBound(nm)}; `}${nm.switches.failedRequests} failed requests in ${nm.switches.n} switches under ${nm.switches.loadRps} req/s`,
    });
  } else
    out.push({
      id: 'nginx-data-plane',
      target: 'nginx data plane ≥ 0.95× hand-configured nginx',
      value: 'not available',
      met: null,
      note: nm?.reason ?? (r.errors?.nginx ? `failed: ${r.errors.nginx}` : 'not measured'),
    });

  const cp = r.controlPlane;
  if (cp?.list) {
    const v = cp.list.p99;
    out.push({
      id: 'release-list-p99',
      target: `release list p99 ≤ 5 ms at ${cp.releases.toLocaleString('en')} releases`,
      value: `${v} ms`,
      met: cp.releases >= 100_000 ? v <= 5 : null,
      note: `${v <= 5 ? '' : `missed by ${(v - 5).toFixed(2)} ms (${times(v, 5)}); ${listBound(cp, r)}; `}p50 ${cp.list.p50} ms over ${cp.list.n} requests${cp.releases < 100_000 ? '; fewer than 100,000 releases, not a verdict' : ''}`,
    });
  } else
    out.push({
      id: 'release-list-p99',
      target: 'release list p99 ≤ 5 ms at 100,000 releases',
      value: 'not measured',
      met: null,
      note: r.errors?.control ? `failed: ${r.errors.control}` : 'control-plane phase skipped',
    });
  const cli = r.cliStart;
  const CLI_COMMANDS = { version: 'rewind --version', releases: 'rewind releases', rollbackHelp: 'rewind releases rollback --help' };
  for (const [key, label] of Object.entries(CLI_COMMANDS)) {
    const ratio = cli?.ratio?.[key];
    out.push(
      ratio == null
        ? {
            id: `cli-start-${key}`,
            target: `${label} ≤ 1.5× \`node -e 0\``,
            value: 'not measured',
            met: null,
            note: r.errors?.cli ? `failed: ${r.errors.cli}` : 'cli phase skipped',
          }
        : {
            id: `cli-start-${key}`,
            target: `${label} ≤ 1.5× \`node -e 0\``,
            value: `${ratio}×`,
            met: ratio <= 1.5,
            note: `${cli.ms[key]} ms vs ${cli.ms.node} ms (medians of ${cli.rounds} interleaved rounds)${key === 'releases' ? '; includes one API call to a local server' : ''}`,
          },
    );
  }
  const mem = r.agentMemory;
  out.push(
    mem?.serving?.rssMb == null
      ? {
          id: 'agent-memory',
          target: 'agent ≤ 100 MB resident serving 50 apps',
          value: 'not measured',
          met: null,
          note: r.errors?.memory ? `failed: ${r.errors.memory}` : 'memory phase skipped',
        }
      : {
          id: 'agent-memory',
          target: 'agent ≤ 100 MB resident serving 50 apps',
          value: `${mem.serving.rssMb} MB`,
          met: mem.apps >= 50 ? mem.serving.rssMb <= 100 : null,
          note: `peak ${mem.serving.peakMb} MB; ${mem.apps} apps, ${mem.instances} instances, ${mem.requestsPerApp} requests to each through its proxy; ${mem.idle?.rssMb} MB before the first deploy${mem.apps < 50 ? '; fewer than 50 apps, not a verdict' : ''}`,
        },
  );
  // A quick run measures too little to judge a target: its numbers are shown, its verdicts withheld.
  if (r.quick) return out.map((t) => (t.met === null ? t : { ...t, met: null, note: `quick run (BENCH_QUICK=1), not a verdict; ${t.note}` }));
  return out;
}
