/**
 * Pins an image component's reference on the swarm manager's Docker Engine (issue 12 item 1): by
 * the registry's digest when the reference names a registry and the image came from (or went to)
 * it, else by the image id, so that a release runs exactly that image after the tag moved.
 */
import { RewindError } from '../../domain/errors.js';
import { parseImageRef } from '../../domain/image-ref.js';
import type { DockerEngine } from './docker-engine.js';
import { EngineNotFoundError } from './docker-errors.js';

export interface PinnedImage {
  /** What a release runs: `REGISTRY/NAME@sha256:…` or the image id `sha256:…`. */
  readonly pinned: string;
  readonly digest: string;
}

export async function pinImage(engine: DockerEngine, ref: string): Promise<PinnedImage> {
  const parsed = parseImageRef(ref);
  if (parsed === null) throw new RewindError('INVALID_MANIFEST', `image ${JSON.stringify(ref)} is not an image reference`);
  const image = await engine.imageInspect(ref).catch((err: Error) => {
    if (err instanceof EngineNotFoundError) {
      throw new RewindError(
        'IMAGE_NOT_FOUND',
        `image ${ref} is not on the swarm manager's Docker Engine; build or pull it there (or push it to the registry and name it REGISTRY/NAME:TAG)`,
      );
    }
    throw err;
  });
  if (parsed.registry !== undefined) {
    const repoDigest = image.repoDigests.find((d) => d.startsWith(`${parsed.repository}@sha256:`));
    if (repoDigest !== undefined) return { pinned: repoDigest, digest: repoDigest.slice(repoDigest.indexOf('@') + 1) };
  }
  return { pinned: image.id, digest: image.id };
}
