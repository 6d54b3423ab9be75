// How long the CLI takes from exec to exit, beside a bare `node -e 0` timed in the same rounds:
// `rewind --version`, `rewind releases -a APP` against a running server (one API call), and
// `rewind releases rollback --help`. Rounds interleave the commands in a new order each time, so
// the machine's noise falls on all of them alike; medians, and each command's ratio to node's.
import { spawnSync } from 'node:child_process';
import { rewindEnv } from '../../test/support/rewind-processes.mjs';
import { BenchRewind } from '../lib/rewind.mjs';
import { BIN, median, round, say } from '../lib/util.mjs';

const APP = 'clistart';

function timeOnce(argv, env) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${String(r.stderr).trim().split('\n')[0]}`);
  return ms;
}

/** Fisher–Yates with a fixed seed per round, so a run is repeatable in its order. */
function shuffled(items, seed) {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function cliStart(cfg) {
  const rw = await BenchRewind.start();
  await rw.ok('POST', '/api/apps', { name: APP });
  const env = rewindEnv({ REWIND_HOST: rw.url, REWIND_DATA: rw.dataDir, NO_COLOR: '1' });
  const commands = {
    node: ['-e', '0'],
    version: [BIN, '--version'],
    releases: [BIN, 'releases', '-a', APP],
    rollbackHelp: [BIN, 'releases', 'rollback', '--help'],
  };
  const names = Object.keys(commands);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) timeOnce(commands[n], env); // warm the file cache
  say(`cli start: ${cfg.cliRounds} rounds of ${names.join(', ')}`);
  for (let round = 0; round < cfg.cliRounds; round++) for (const n of shuffled(names, round + 1)) samples[n].push(timeOnce(commands[n], env));
  await rw.stop();
  const out = { rounds: cfg.cliRounds, ms: {}, ratio: {} };
  for (const n of names) out.ms[n] = round(median(samples[n]));
  for (const n of names.filter((x) => x !== 'node')) out.ratio[n] = round(out.ms[n] / out.ms.node);
  say(`cli start (median ms): ${names.map((n) => `${n} ${out.ms[n]}`).join(', ')}`);
  return out;
}
