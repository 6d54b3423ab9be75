/**
 * The agent's folder holds its token, its state (every app's config), logs and snapshots: only its
 * user may read it. New files are created 0600 in 0700 folders; at start, what an older agent left
 * with wider modes is narrowed.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Top-level files and the folders (recursively) that hold secrets, state or logs. */
const PRIVATE_FILES = ['agent.json', 'agent-state.json', 'agent.log', 'agent.lock', 'agent.token'];
const PRIVATE_TREES = ['logs', 'snapshots'];

function narrow(path: string, dirMode: number, fileMode: number, recurse: boolean): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o7777) !== dirMode) chmodSync(path, dirMode);
    if (recurse) for (const name of readdirSync(path)) narrow(join(path, name), dirMode, fileMode, true);
  } else if (st.isFile() && (st.mode & 0o7777) !== fileMode) {
    chmodSync(path, fileMode);
  }
}

/** Creates the agent's folder 0700, and narrows the modes of what it already holds. */
export function secureAgentDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const name of PRIVATE_FILES) narrow(join(dataDir, name), 0o700, 0o600, false);
  for (const name of PRIVATE_TREES) narrow(join(dataDir, name), 0o700, 0o600, true);
}
