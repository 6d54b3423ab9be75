// How much CPU the rest of the machine used while the benchmark ran: every second, the machine's
// busy time (/proc/stat) minus the CPU time of this process and all its descendants (servers,
// agents, instances, nginx, load generators). Linux only; elsewhere it reports nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { round } from './util.mjs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function machineBusyTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return user + nice + system + irq + softirq + (steal ?? 0);
}

/** pid → { ppid, ticks (utime + stime) } of every process. */
function processTable() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return out;
}

function ownTicks(table) {
  const children = new Map();
  for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const own = new Map();
  const stack = [process.pid];
  while (stack.length) {
    const pid = stack.pop();
    if (own.has(pid) || !table.has(pid)) continue;
    own.set(pid, table.get(pid).ticks);
    stack.push(...(children.get(pid) ?? []));
  }
  return own;
}

/** CPU ticks (1/100 s) used so far by `pids` and, with `tree`, all their descendants; null off Linux. */
export function cpuTicks(pids, { tree = false } = {}) {
  let table;
  try {
    table = processTable();
  } catch {
    return null;
  }
  const want = new Set(pids);
  if (tree) {
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, p] of table) {
        if (!want.has(pid) && want.has(p.ppid)) {
          want.add(pid);
          grew = true;
        }
      }
    }
  }
  let ticks = 0;
  for (const pid of want) ticks += table.get(pid)?.ticks ?? 0;
  return ticks;
}

export class CpuWatch {
  #timer = null;
  #last = null;
  #foreign = 0;
  #own = 0;
  #busy = 0;
  #started = 0;

  start() {
    try {
      this.#last = { busy: machineBusyTicks(), own: ownTicks(processTable()) };
    } catch {
      return this; // not Linux
    }
    this.#started = Date.now();
    this.#timer = setInterval(() => this.#sample(), 1000);
    this.#timer.unref();
    return this;
  }

  #sample() {
    const busy = machineBusyTicks();
    const own = ownTicks(processTable());
    let ownDelta = 0;
    // A process new since the last sample counts whole; the last second of one that ended in between
    // is missed (approximate, and it errs towards "other").
    for (const [pid, ticks] of own) ownDelta += Math.max(0, ticks - (this.#last.own.get(pid) ?? 0));
    const busyDelta = busy - this.#last.busy;
    this.#busy += busyDelta;
    this.#own += ownDelta;
    this.#foreign += Math.max(0, busyDelta - ownDelta);
    this.#last = { busy, own };
  }

  /** Average cores used by the benchmark's processes and by everything else since start(). */
  stop() {
    if (!this.#timer) return null;
    clearInterval(this.#timer);
    this.#sample();
    const seconds = (Date.now() - this.#started) / 1000;
    const cores = (ticks) => round((ticks * TICK_MS) / 1000 / seconds, 2);
    return { seconds: round(seconds, 1), ownCores: cores(this.#own), otherCores: cores(this.#foreign) };
  }
}
