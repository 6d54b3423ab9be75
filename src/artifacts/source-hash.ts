import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';

const SMALL = 256 * 1024;
import { join } from 'node:path';

/**
 * A content hash of a folder: every entry's relative path, kind, executable bit and content (or
 * link target), in sorted order. Two folders with the same files hash the same, wherever they are.
 */
export async function hashTree(root: string): Promise<string> {
  const h = createHash('sha256');
  await walk(root, '', h);
  return h.digest('hex');
}

async function walk(root: string, rel: string, h: ReturnType<typeof createHash>): Promise<void> {
  const names = (await readdir(join(root, rel))).sort();
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const p = join(root, r);
    const st = await lstat(p);
    if (st.isDirectory()) {
      h.update(`d ${r}\n`);
      await walk(root, r, h);
    } else if (st.isSymbolicLink()) {
      h.update(`l ${r} ${await readlink(p)}\n`);
    } else if (st.isFile()) {
      h.update(`f ${r} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\n`);
      // A stream per file costs more than the read itself for the many small files of a source tree.
      if (st.size <= SMALL) h.update(await readFile(p));
      else for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
    }
  }
}
