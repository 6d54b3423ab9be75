// The agent's optional nginx data plane (`rewind agent --proxy nginx`): its throughput against a
// hand-configured nginx in front of the same instance, and failed requests during switches.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname } from 'node:path';
import { cpuTicks } from '../lib/cpu-watch.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { BenchRewind, benchApp, processesUnder } from '../lib/rewind.mjs';
import { BIN, memoryOf, round, say } from '../lib/util.mjs';
import { compareThroughput, liveInstances, STANDBY_ENV, switchesUnderLoad } from './data-plane.mjs';

const APP = 'benchnginx';

/** Why the nginx data plane cannot be measured here, or null when it can. */
export function nginxModeUnavailable(nginx) {
  if (!nginx.bin) return nginx.reason;
  let help = '';
  try {
    help = execFileSync(process.execPath, [BIN, 'agent', '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return `rewind agent --help failed: ${err.message}`;
  }
  return /--proxy\b/.test(help) ? null : "not available: this tree's agent has no `--proxy nginx` option";
}

/** The nginx masters the agent runs for `dataDir` (their workers are their children). */
function nginxMasters(dataDir) {
  return processesUnder(dataDir).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nginx: master');
    } catch {
      return false;
    }
  });
}

export async function nginxMode(cfg, nginx) {
  const reason = nginxModeUnavailable(nginx);
  if (reason) return { available: false, reason };
  // The agent runs `nginx` from PATH: put the one found here first.
  const env = { ...STANDBY_ENV, REWIND_NGINX: nginx.bin, PATH: `${dirname(nginx.bin)}${delimiter}${process.env.PATH ?? ''}` };
  const rw = await BenchRewind.start({ agentArgs: ['--proxy', 'nginx'], env });
  try {
    await rw.ok('POST', '/api/apps', { name: APP });
    for (const v of ['v1', 'v2']) await rw.deploy(await benchApp(v), APP);
    const url = await rw.appUrl(APP);
    const [instance] = await liveInstances(rw, APP);
    const hand = await startNginx(nginx.bin, instance.port);
    let got;
    try {
      const targets = {
        handNginx: { url: hand.url, proxy: () => cpuTicks([hand.pid], { tree: true }) },
        rewindNginx: { url, proxy: () => cpuTicks(nginxMasters(rw.dataDir), { tree: true }) },
      };
      got = await compareThroughput(targets, cfg, () => cpuTicks([instance.pid], { tree: true }));
    } finally {
      await hand.stop();
    }
    const switches = await switchesUnderLoad(rw, url, { ...cfg, switches: Math.max(4, Math.round(cfg.switches / 4)) }, got.rewindNginx.rps, APP);
    return {
      available: true,
      masters: nginxMasters(rw.dataDir).length,
      handNginx: got.handNginx,
      rewindNginx: got.rewindNginx,
      ratioVsHandNginx: round(got.rewindNginx.rps / got.handNginx.rps, 3),
      switches,
      memory: { agent: memoryOf(rw.agentPid), server: memoryOf(rw.serverPid) },
    };
  } catch (err) {
    say(`nginx data plane: ${err.message}`);
    return { available: false, reason: `failed: ${err.message.split('\n')[0]}` };
  } finally {
    await rw.stop();
  }
}
