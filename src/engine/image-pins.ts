import { rewindError } from '../domain/errors.js';
import type { PinnedImage } from '../builder/ports.js';
import type { TargetResolver } from '../targets/target.js';

/**
 * The builder's `resolveImage` port: the environment's target pins the reference (the Swarm
 * target asks its manager's Docker Engine); a target that runs no images refuses it in one line.
 */
export function imagePins(targets: TargetResolver) {
  return async (app: string, env: string, ref: string, component: string): Promise<PinnedImage> => {
    const target = targets.forEnv(app, env);
    if (!target.resolveImage) throw rewindError('IMAGE_NEEDS_SWARM', component, ref);
    return target.resolveImage(ref);
  };
}
