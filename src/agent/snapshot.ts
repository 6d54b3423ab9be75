/**
 * Snapshots of what is actually live: each component's files as they are on disk now (drift
 * included) packed as a tar.gz, and the config its processes really run with.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import type { AgentSnapshot, SnapshotComponent } from '../protocol/agent-protocol.js';
import { INHERITED_ENV } from './process-commands.js';

/** Keys the agent itself sets on every instance; they are not the release's config. */
/** Variables the agent sets on every instance: never config, so a backup never records them. */
const AGENT_KEYS = new Set(['PORT', 'REWIND_APP', 'REWIND_ENV', 'REWIND_RELEASE', 'REWIND_COMPONENT', 'REWIND_INSTANCE', 'REWIND_AGENT']);

/** Parses /proc/PID/environ (NUL-separated KEY=VALUE). */
export function parseEnviron(raw: string): Record<string, string> {
  const entries = raw.split('\0').flatMap((entry) => {
    const i = entry.indexOf('=');
    return i > 0 ? [[entry.slice(0, i), entry.slice(i + 1)] as const] : [];
  });
  return Object.fromEntries(entries);
}

/**
 * The config in effect in a process: its environment minus what the agent adds. Inherited keys
 * (PATH, HOME, LANG) count only when the release set them or they differ from the agent's.
 */
export function configInEffect(
  environ: Record<string, string>,
  agentEnv: Readonly<Record<string, string | undefined>>,
  declared: Readonly<Record<string, string>>,
): Record<string, string> {
  const kept = Object.entries(environ).filter(
    ([k, v]) => !AGENT_KEYS.has(k) && !((INHERITED_ENV as readonly string[]).includes(k) && !Object.hasOwn(declared, k) && agentEnv[k] === v),
  );
  // Entries all the way: a variable named __proto__ stays a variable.
  return Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : 1)));
}

export interface LiveComponent {
  readonly name: string;
  readonly build: string;
  readonly slugDir: string;
  /** A live process of this component, whose environment shows the config in effect. */
  readonly pid: number | null;
}

/** Packs every live component's folder and reads the config in effect; writes under `dir`. */
export async function takeSnapshot(o: {
  dir: string;
  app: string;
  env: string;
  release: string | null;
  components: readonly LiveComponent[];
  declaredConfig: Readonly<Record<string, string>>;
  agentEnv: Readonly<Record<string, string | undefined>>;
}): Promise<AgentSnapshot> {
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  await prune(o.dir);
  const components: SnapshotComponent[] = [];
  for (const c of o.components) {
    const path = join(o.dir, `${o.app}.${o.env}.${c.name}.${Date.now()}.${process.pid}.tar.gz`);
    const entries = (await readdir(c.slugDir)).sort();
    await tar.c({ gzip: true, file: path, cwd: c.slugDir, portable: true, follow: false }, entries);
    await chmod(path, 0o600);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    components.push({ name: c.name, build: c.build, sha256: hash.digest('hex'), path, size: (await stat(path)).size });
  }
  let config: Record<string, string> = { ...o.declaredConfig };
  const pid = o.components.find((c) => c.pid !== null)?.pid;
  if (pid) {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => null);
    if (raw !== null) config = configInEffect(parseEnviron(raw), o.agentEnv, o.declaredConfig);
  }
  return { app: o.app, env: o.env, release: o.release, config, components };
}

/** Snapshots are copied away by the control plane at once; keep the folder small. */
async function prune(dir: string, maxAgeMs = 60 * 60_000): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > maxAgeMs) await rm(p, { force: true });
  }
}
