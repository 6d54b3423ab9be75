/**
 * One nginx master the agent runs: started as a daemon from a configuration file of its own,
 * reloaded gracefully with SIGHUP (and told apart from its old workers by their titles), found
 * again by its pid file after an agent restart.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentLogger } from './agent-context.js';
import type { NginxPaths } from './nginx-config.js';
import { nginxStartArgv } from './nginx-config.js';
import { childPids, commandLine, isAlive } from './proc-info.js';
import { writeFileAtomic } from './state-file.js';

const RELOAD_TIMEOUT_MS = 5000;

/** One nginx master the agent runs (daemonized: it outlives the agent), found again by its pid file. */
export class NginxMaster {
  readonly paths: NginxPaths;
  readonly #bin: string;
  readonly #logger: AgentLogger;
  pid: number | null = null;
  /** The configuration it runs now. */
  applied = '';
  /** Workers that a reload told to finish and exit: a drain waits for them. */
  readonly retired = new Set<number>();

  constructor(paths: NginxPaths, bin: string, logger: AgentLogger) {
    this.paths = paths;
    this.#bin = bin;
    this.#logger = logger;
    mkdirSync(join(paths.prefix, 'tmp'), { recursive: true });
  }

  /** The master of a previous agent still runs: keep it. */
  adopt(): boolean {
    const pid = this.#readPid();
    if (pid === null || !this.#isOurs(pid)) return false;
    this.pid = pid;
    try {
      this.applied = readFileSync(this.paths.conf, 'utf8');
    } catch {
      /* no configuration: the first apply writes one */
    }
    this.#logger.info({ pid, conf: this.paths.conf }, 're-adopted a running nginx master');
    return true;
  }

  alive(): boolean {
    return this.pid !== null && this.#isOurs(this.pid);
  }

  /** Runs `text`: starts the master, or reloads it gracefully; a no-op when it runs that already. */
  async apply(text: string): Promise<void> {
    const alive = this.alive();
    if (alive && text === this.applied) return;
    writeFileAtomic(this.paths.conf, text);
    if (alive) await this.#reload();
    else await this.#start();
    this.applied = text;
  }

  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === null || !this.alive()) return;
    process.kill(pid, 'SIGQUIT'); // graceful: workers finish their requests
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(25);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const worker of this.retired) if (isAlive(worker)) process.kill(worker, 'SIGKILL');
  }

  #readPid(): number | null {
    try {
      const pid = Number(readFileSync(this.paths.pid, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  #isOurs(pid: number): boolean {
    const cmd = commandLine(pid);
    return isAlive(pid) && cmd.includes('nginx: master process') && cmd.includes(this.paths.conf);
  }

  #workers(): number[] {
    return this.pid === null ? [] : activeWorkers(this.pid);
  }

  async #start(): Promise<void> {
    const [file, ...args] = nginxStartArgv(this.#bin, this.paths);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(file as string, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', (err) => reject(new Error(`cannot run ${this.#bin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
      // With `daemon on` this process exits once the master runs in the background.
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`nginx did not start (exit code ${code}): ${stderr.trim() || this.#errorLogTail()}`)),
      );
    });
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const pid = this.#readPid();
      if (pid !== null && this.#isOurs(pid)) {
        this.pid = pid;
        while (this.#workers().length === 0 && Date.now() < deadline) await sleep(10);
        this.#logger.info({ pid, conf: this.paths.conf }, 'nginx master started');
        return;
      }
      await sleep(10);
    }
    throw new Error(`nginx did not write ${this.paths.pid}: ${this.#errorLogTail()}`);
  }

  /**
   * SIGHUP: new workers with the new configuration, old ones finish gracefully. Resolves once only
   * new workers take connections (nginx itself waits 100 ms before it retires the old ones).
   */
  async #reload(): Promise<void> {
    const master = this.pid as number;
    const before = this.#workers();
    const logSize = this.#errorLogSize();
    process.kill(master, 'SIGHUP');
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // A configuration the master refuses: it says why in its error log and keeps the old one.
      const refused = /\[emerg\][^\n]*/.exec(this.#errorLogSince(logSize));
      if (refused) throw new Error(`nginx refused the new configuration: ${refused[0]}`);
      const now = this.#workers();
      if (now.some((pid) => !before.includes(pid)) && before.every((pid) => !now.includes(pid))) {
        for (const pid of before) if (isAlive(pid)) this.retired.add(pid);
        return;
      }
      await sleep(5);
    }
    throw new Error(`nginx did not reload within ${RELOAD_TIMEOUT_MS / 1000}s: ${this.#errorLogTail()}`);
  }

  #errorLogSize(): number {
    try {
      return statSync(this.paths.errorLog).size;
    } catch {
      return 0;
    }
  }

  #errorLogSince(offset: number): string {
    try {
      const fd = openSync(this.paths.errorLog, 'r');
      try {
        const size = fstatSync(fd).size;
        if (size <= offset) return '';
        const buf = Buffer.alloc(Math.min(size - offset, 64 * 1024));
        readSync(fd, buf, 0, buf.length, offset);
        return buf.toString('utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      return '';
    }
  }

  #errorLogTail(): string {
    try {
      return readFileSync(this.paths.errorLog, 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      return 'no error log';
    }
  }
}

/**
 * The workers of an nginx master that take new connections. A worker that is shutting down, or
 * that exited between the listing and the read of its command line (empty), is not one.
 */
export function activeWorkers(masterPid: number): number[] {
  return childPids(masterPid).filter((pid) => {
    const cmd = commandLine(pid);
    return cmd.includes('worker process') && !cmd.includes('shutting down');
  });
}
