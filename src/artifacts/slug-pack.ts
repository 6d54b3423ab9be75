import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { c as createTar } from 'tar';
import { hashFile } from './artifact-store.js';
import type { StoredArtifact } from './artifact-store.js';
import { tarSafeName } from './source-pack.js';
import { safeMode } from './entry-policy.js';

/** Fixed mtime so that packing the same tree twice gives the same bytes. */
export const SLUG_MTIME = new Date(0);

/**
 * Packs a whole built directory (node_modules included) as the slug the agent runs:
 * entries sorted, portable headers, fixed mtime, symlinks kept as symlinks.
 */
export async function packDirectory(dir: string, outPath: string): Promise<StoredArtifact> {
  const entries = await listTree(dir);
  await createTar(
    // A build command may chmod 4755 or 0777: the slug the agent unpacks never carries that (see safeMode).
    {
      file: outPath,
      gzip: true,
      portable: true,
      cwd: dir,
      follow: false,
      noDirRecurse: true,
      mtime: SLUG_MTIME,
      filter: (_path, st) => {
        st.mode = safeMode(st.mode ?? 0o644);
        return true;
      },
    },
    // an empty tree still makes a valid archive: just its root folder
    entries.length > 0 ? entries.map(tarSafeName) : ['.'],
  );
  return hashFile(outPath);
}

/** Every folder, file and symlink under dir, parents before children, sorted by path. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel + e.name;
      if (e.isDirectory()) {
        out.push(r);
        await walk(join(abs, e.name), `${r}/`);
      } else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  };
  await walk(dir, '');
  return out;
}
