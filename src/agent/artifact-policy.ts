/**
 * Which files the agent reads as slugs: regular files in the artifact store it was given, up to a
 * size. Anything else (`/etc/shadow`, `/dev/zero`, a symlink out of the store) is refused before a
 * byte is read, so the agent neither leaks a digest nor reads without end.
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export interface ArtifactPolicy {
  /** The artifact store (`<rewind data>/artifacts`): every artifact path must be a file under it. */
  readonly root: string;
  /** The largest artifact read, in bytes. */
  readonly maxBytes: number;
}

export const DEFAULT_MAX_ARTIFACT_MB = 4096;

const inside = (path: string, root: string) => {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/** The rule `path` breaks, or null. A missing file passes here (reading it fails later, saying so). */
export async function artifactProblem(path: string, policy: ArtifactPolicy): Promise<string | null> {
  if (!isAbsolute(path) || path.includes('\0')) return 'must be an absolute path';
  const root = resolve(policy.root);
  if (!inside(resolve(path), root)) return `must be a file in the agent's artifact store ${root}`;
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  const realRoot = await realpath(root).catch(() => root);
  if (!inside(real, realRoot)) return `must be a file in the agent's artifact store ${root} (it links outside it)`;
  const st = await stat(real);
  if (!st.isFile()) return 'must be a regular file';
  if (st.size > policy.maxBytes) return `is ${st.size} bytes, more than the agent's limit of ${policy.maxBytes} (--max-artifact-mb)`;
  return null;
}

/**
 * Opens an artifact for reading once it passes the policy, and checks the opened file again (it
 * could have been swapped in between): the caller reads exactly `size` bytes from that handle.
 */
export async function openArtifact(path: string, policy: ArtifactPolicy): Promise<{ file: FileHandle; size: number }> {
  const problem = await artifactProblem(path, policy);
  if (problem) throw new Error(`artifact ${path} ${problem}`);
  // O_NONBLOCK: a FIFO swapped in after the check must not block the open.
  const file = await open(await realpath(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await file.stat();
    if (!st.isFile()) throw new Error(`artifact ${path} must be a regular file`);
    if (st.size > policy.maxBytes)
      throw new Error(`artifact ${path} is ${st.size} bytes, more than the agent's limit of ${policy.maxBytes} (--max-artifact-mb)`);
    return { file, size: st.size };
  } catch (err) {
    await file.close();
    throw err;
  }
}
