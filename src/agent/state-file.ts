/**
 * The agent's memory across restarts: which app/envs it runs, on which proxy port, with which
 * desired state, and the instances (pids) it must re-adopt. Written by temp file + fsync + rename.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AutoRollback, DesiredState } from '../protocol/agent-protocol.js';
import { AGENT_STATE_FILE } from '../protocol/agent-protocol.js';
import type { ResolvedEdgeRoute } from '../protocol/edge-protocol.js';

/**
 * live: part of the running release. starting: new in an unfinished rollout. draining: replaced,
 * stopped once drained. standby: replaced, kept running without traffic for a quick rollback.
 */
export type InstanceRole = 'live' | 'starting' | 'draining' | 'standby';

export interface PersistedInstance {
  readonly id: string;
  readonly component: string;
  readonly release: string;
  readonly build: string;
  readonly role: InstanceRole;
  /** Its working copy; absent for an instance an older agent started in the slug itself. */
  readonly dir?: string;
  readonly pid: number | null;
  /** Kernel start time of pid, so that a recycled pid is never adopted (or killed). */
  readonly pidStart?: string;
  readonly port: number | null;
  readonly startedAt: string;
  readonly restarts: number;
  /** How much of the instance's raw log file has been copied to the combined log. */
  readonly logOffset: number;
}

export interface PersistedApp {
  readonly app: string;
  readonly env: string;
  readonly release: string | null;
  readonly proxyPort: number;
  /** The desired state of `release`; null before the first successful rollout. */
  readonly desired: DesiredState | null;
  readonly instances: readonly PersistedInstance[];
  /** The desired state live before `desired`: where an automatic rollback goes. */
  readonly previous?: DesiredState | null;
  /** Warm standby releases (their instances have role `standby`), oldest first; `until` is ISO. */
  readonly standby?: readonly { readonly desired: DesiredState; readonly until: string }[];
  /** Route ports: of deployed components, and kept open (404) for components no longer deployed. */
  readonly routes?: Readonly<Record<string, number>>;
  readonly undeployedRoutes?: Readonly<Record<string, number>>;
  /** The automatic-rollback watch of `release`, while its window lasts. */
  readonly watch?: { readonly release: string; readonly until: string; readonly crashes: number } | null;
  readonly autoRollbacks?: readonly AutoRollback[];
}

export interface PersistedState {
  readonly version: 1;
  readonly apps: readonly PersistedApp[];
  /** The edge routes (edge-set.ts), and the fence each deleted one left. */
  readonly edges?: readonly ResolvedEdgeRoute[];
  readonly deletedEdges?: readonly { readonly app: string; readonly env: string; readonly fence: number }[];
}

export const EMPTY_STATE: PersistedState = { version: 1, apps: [] };

export function stateFilePath(dataDir: string): string {
  return join(dataDir, AGENT_STATE_FILE);
}

/** Writes `data` so that readers see the old or the new content, never a torn file. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    // Make the rename itself durable; not every file system lets a directory be fsynced.
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    /* best effort */
  }
}

/**
 * Writes the agent's state behind its back: `write()` marks the state changed and returns a
 * promise that settles once a write that includes the change is durable. The write, fsync and
 * rename run off the event loop (the proxy keeps serving meanwhile), one at a time; changes made
 * during a write are coalesced into the next one. A failed write is reported, never thrown.
 */
export class StateWriter {
  #dirty = false;
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly snapshot: () => PersistedState,
    private readonly onError: (err: Error) => void,
  ) {}

  write(): Promise<void> {
    this.#dirty = true;
    this.#flushing ??= this.#flush();
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        // The snapshot is taken when the write starts, so it holds every change made until then.
        const text = `${JSON.stringify(this.snapshot(), null, 2)}\n`;
        await writeFileAtomicAsync(stateFilePath(this.dataDir), text).catch((err: Error) => this.onError(err));
      }
    } finally {
      this.#flushing = null;
    }
  }
}

/** The persisted state; empty when there is none. A corrupt file is an error: never guess about pids. */
export function readState(dataDir: string): PersistedState {
  let text: string;
  try {
    text = readFileSync(stateFilePath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<PersistedState>;
  if (parsed.version !== 1 || !Array.isArray(parsed.apps)) {
    throw new Error(`${stateFilePath(dataDir)} is not an agent state file (version ${String(parsed.version)})`);
  }
  return {
    version: 1,
    apps: parsed.apps,
    ...(Array.isArray(parsed.edges) ? { edges: parsed.edges } : {}),
    ...(Array.isArray(parsed.deletedEdges) ? { deletedEdges: parsed.deletedEdges } : {}),
  };
}

/** writeFileAtomic, with the file system work done off the event loop. */
export async function writeFileAtomicAsync(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* best effort, as in writeFileAtomic */
  }
}
