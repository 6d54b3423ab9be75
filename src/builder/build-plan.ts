/** What an upload must build: per component, the hash of its source and build spec, and the earlier build it reuses when that hash was built before. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RewindError } from '../domain/errors.js';
import type { ManifestReading } from '../domain/manifest.js';
import type { BuilderOptions } from './builder.js';

export interface BuildPlan {
  /** component → source hash */
  readonly hashes: Record<string, string>;
  /** component → earlier build it reuses */
  readonly reuse: Record<string, string>;
  /** components to build now */
  readonly build: string[];
  /** Where the manifest came from, and what the build log says about it. */
  readonly reading: ManifestReading;
}

/**
 * Which components this upload must build: those whose source folder (and build spec) hash
 * differs from every earlier succeeded build of that component; the others reuse that build.
 */
export async function planComponents(
  deps: Pick<BuilderOptions, 'artifacts' | 'store'>,
  app: string,
  src: string,
  reading: ManifestReading,
): Promise<BuildPlan> {
  const { manifest, file } = reading;
  const hashes: Record<string, string> = {};
  const reuse: Record<string, string> = {};
  const build: string[] = [];
  for (const c of Object.values(manifest.components)) {
    const dir = join(src, c.path ?? '.');
    if (!(await stat(dir).catch(() => null))?.isDirectory()) {
      const key = file === 'convox.yml' ? `services.${c.name}.build` : `components.${c.name}.path`;
      throw new RewindError('INVALID_MANIFEST', `${file}: ${key} "${c.path}" is not a folder of the source; create it or fix the path`);
    }
    const spec = JSON.stringify({ path: c.path ?? '.', build: c.build ?? null, static: c.static ?? null });
    hashes[c.name] = createHash('sha256')
      .update(spec)
      .update(await deps.artifacts.hashTree(dir))
      .digest('hex');
    const earlier = await deps.store.builds.reusable(app, c.name, hashes[c.name]);
    if (earlier) reuse[c.name] = earlier.id;
    else build.push(c.name);
  }
  return { hashes, reuse, build, reading };
}
