/**
 * What the agent can learn about a process from the kernel: is it alive, when did it start,
 * how much memory does it use. Linux /proc when readable; plain signals otherwise.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

interface ProcStat {
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** Clock ticks since boot at which the process started: with the pid, identifies it. */
  readonly startTime: string;
}

/** Parses /proc/<pid>/stat; null when the process does not exist or /proc is not readable. */
function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime: fields[19] ?? '' };
}

const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** True when pid runs (a zombie waiting to be reaped is dead) and, if given, started at `startTime`. */
export function isAlive(pid: number, startTime?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const stat = readStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || startTime === stat.startTime;
}

/** The kernel's start time of pid, to tell a re-adopted process from a recycled pid. */
export function processStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** True while any non-zombie process of process group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  // Orphans are reparented to pid 1, which may not reap them: ignore zombies.
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

/** The living (non-zombie) children of pid, from /proc; [] without /proc. */
export function childPids(pid: number): number[] {
  if (!hasProc) return [];
  try {
    // Linux keeps the list for us (CONFIG_PROC_CHILDREN): far cheaper than reading every /proc entry.
    const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return listed
      ? listed
          .split(' ')
          .map(Number)
          .filter((child) => isAlive(child))
      : [];
  } catch {
    /* not available: scan /proc */
  }
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.ppid === pid && stat.state !== 'Z' && stat.state !== 'X') out.push(Number(name));
  }
  return out;
}

/** The command line of pid as its process shows it (nginx retitles its workers); '' when unknown. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Resident set size in bytes from /proc/<pid>/status VmRSS, when readable. */
export function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resident memory of pid and all its descendants: an instance runs as `/bin/sh -c COMMAND`, so the
 * app's own process is usually a child of the pid the agent holds.
 */
export function readTreeRss(pid: number, depth = 0): number | undefined {
  const own = readRss(pid);
  if (own === undefined || depth > 8) return own;
  return childPids(pid).reduce((sum, child) => sum + (readTreeRss(child, depth + 1) ?? 0), own);
}

/** A free TCP port on 127.0.0.1 (bind 0, read, close); `preferred` first when given and free. */
export async function freePort(preferred?: number): Promise<number> {
  if (preferred) {
    const ok = await tryListen(preferred);
    if (ok !== null) return ok;
  }
  const port = await tryListen(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** Sends `signal` to the process group led by pid; false when it no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Kills what is left of a dead instance's process group (children that outlived their leader).
 * Safe against pid reuse: Linux does not hand out a pid still used as a process group id, so a
 * group named after a dead pid can only be that instance's.
 */
export function killLeftoverGroup(pid: number): void {
  const stat = readStat(pid);
  const leaderGone = hasProc ? !stat || stat.state === 'Z' || stat.state === 'X' : !isAlive(pid);
  if (leaderGone && groupAlive(pid)) signalGroup(pid, 'SIGKILL');
}

/** The environment of pid; empty when it is gone or not ours to read. */
function environOf(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  try {
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } catch {
    /* gone, or another user's */
  }
  return env;
}

export interface MarkedProcess {
  readonly pid: number;
  readonly app: string;
  readonly env: string;
  /** $REWIND_INSTANCE: `component.id` */
  readonly instance: string;
}

/**
 * The living process-group leaders started by the agent whose data dir is `agentDir`: the
 * instances it spawned ($REWIND_AGENT). Their own children share their group (and their marks),
 * so only leaders are listed. Empty without /proc.
 */
export function markedLeaders(agentDir: string): MarkedProcess[] {
  if (!hasProc) return [];
  const out: MarkedProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (!stat || stat.pgrp !== pid || stat.state === 'Z' || stat.state === 'X') continue;
    const env = environOf(pid);
    if (env.get('REWIND_AGENT') !== agentDir) continue;
    out.push({ pid, app: env.get('REWIND_APP') ?? '', env: env.get('REWIND_ENV') ?? '', instance: env.get('REWIND_INSTANCE') ?? '' });
  }
  return out;
}
