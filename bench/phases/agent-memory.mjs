// The agent's memory serving many apps: N apps deployed through Rewind (a build and a deployment
// each), then traffic to every one through its proxy port; the agent's resident memory then, and
// its peak. The apps' own processes are not the agent's and are not counted.
import { BenchRewind, benchApp } from '../lib/rewind.mjs';
import { memoryOf, say } from '../lib/util.mjs';

const CONCURRENCY = 2;

async function requests(url, n) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  }
}

export async function agentMemory(cfg) {
  const rw = await BenchRewind.start();
  try {
    const dir = await benchApp('v1');
    const apps = Array.from({ length: cfg.memoryApps }, (_, i) => `mem${i + 1}`);
    const idle = memoryOf(rw.agentPid);
    let next = 0;
    const worker = async () => {
      while (next < apps.length) {
        const app = apps[next++];
        await rw.ok('POST', '/api/apps', { name: app });
        await rw.deploy(dir, app);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    say(`agent memory: ${apps.length} apps deployed`);
    for (const app of apps) await requests(await rw.appUrl(app), cfg.memoryRequests);
    const serving = memoryOf(rw.agentPid);
    const state = await rw.agentState();
    const instances = state.apps.reduce((n, a) => n + a.instances.length, 0);
    say(
      `agent memory: ${serving?.rssMb} MB resident (peak ${serving?.peakMb} MB) serving ${state.apps.length} apps, ${instances} instances; ${idle?.rssMb} MB before`,
    );
    return { apps: state.apps.length, instances, requestsPerApp: cfg.memoryRequests, idle, serving };
  } finally {
    await rw.stop();
  }
}
