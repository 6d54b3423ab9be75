/** What an upload must build: per component, the hash of its source and build spec, and the earlier build it reuses when that hash was built before. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RewindError, rewindError } from '../domain/errors.js';
import type { ComponentSpec, ManifestReading } from '../domain/manifest.js';
import type { BuilderOptions } from './builder.js';

export interface BuildPlan {
  /** component → source hash */
  readonly hashes: Record<string, string>;
  /** component → earlier build it reuses */
  readonly reuse: Record<string, string>;
  /** components to build now */
  readonly build: string[];
  /** image component → its image pinned (for those built now and those reused alike) */
  readonly images: Record<string, string>;
  /** Where the manifest came from, and what the build log says about it. */
  readonly reading: ManifestReading;
}

/**
 * Which components this upload must build: those whose source folder (and build spec) hash
 * differs from every earlier succeeded build of that component; the others reuse that build.
 */
export async function planComponents(
  deps: Pick<BuilderOptions, 'artifacts' | 'store' | 'resolveImage'>,
  where: { readonly app: string; readonly env: string },
  src: string,
  reading: ManifestReading,
): Promise<BuildPlan> {
  const { manifest, file } = reading;
  const { app } = where;
  const hashes: Record<string, string> = {};
  const reuse: Record<string, string> = {};
  const build: string[] = [];
  const images: Record<string, string> = {};
  for (const c of Object.values(manifest.components)) {
    if (c.image !== undefined) {
      // An image has no source: what it is, is its pin. The same pin again reuses the earlier build.
      images[c.name] = await pinImage(deps, where, c.name, c.image);
      hashes[c.name] = createHash('sha256')
        .update(JSON.stringify({ image: images[c.name] }))
        .digest('hex');
    } else hashes[c.name] = await sourceHash(deps, src, c, file);
    const earlier = await deps.store.builds.reusable(app, c.name, hashes[c.name]);
    if (earlier) reuse[c.name] = earlier.id;
    else build.push(c.name);
  }
  return { hashes, reuse, build, images, reading };
}

/** The hash of a source component's folder and build spec; its folder must exist. */
async function sourceHash(deps: Pick<BuilderOptions, 'artifacts'>, src: string, c: ComponentSpec, file: string): Promise<string> {
  const dir = join(src, c.path ?? '.');
  if (!(await stat(dir).catch(() => null))?.isDirectory()) {
    const key = file === 'convox.yml' ? `services.${c.name}.build` : `components.${c.name}.path`;
    throw new RewindError('INVALID_MANIFEST', `${file}: ${key} "${c.path}" is not a folder of the source; create it or fix the path`);
  }
  const spec = JSON.stringify({ path: c.path ?? '.', build: c.build ?? null, static: c.static ?? null });
  return createHash('sha256')
    .update(spec)
    .update(await deps.artifacts.hashTree(dir))
    .digest('hex');
}

/** An image component's reference pinned by the environment's target; a builder without the port cannot build images. */
async function pinImage(deps: Pick<BuilderOptions, 'resolveImage'>, where: { app: string; env: string }, name: string, ref: string): Promise<string> {
  if (!deps.resolveImage) throw rewindError('IMAGE_NEEDS_SWARM', name, ref);
  return (await deps.resolveImage(where.app, where.env, ref, name)).pinned;
}
