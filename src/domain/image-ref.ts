/** Container image references as `rewind.yml` names them (`image:`): checked here, pinned by a target. Pure. */

/** `[REGISTRY/]NAME[:TAG][@sha256:DIGEST]` as Docker reads it, or an image id `sha256:…`. */
const PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?)';
const REFERENCE = new RegExp(`^(?:(${REGISTRY})/)?(${PART}(?:/${PART})*)(?::([\\w][\\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$`);
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
const MAX_REF = 255;

export interface ImageRef {
  /** The registry host (`127.0.0.1:5000`) when the first part names one: it has a dot or a port, or is localhost. */
  readonly registry?: string;
  /** The repository with its registry, without tag or digest (`127.0.0.1:5000/rewind-test/web`). */
  readonly repository: string;
}

/** The parts of an image reference, or null when it is not one Docker would accept. */
export function parseImageRef(ref: string): ImageRef | null {
  if (ref.length === 0 || ref.length > MAX_REF) return null;
  if (IMAGE_ID.test(ref)) return { repository: ref };
  const m = REFERENCE.exec(ref);
  if (!m) return null;
  const [, first, rest] = m as unknown as [string, string | undefined, string];
  // Without a dot, a port or "localhost", Docker reads the first part as the start of the name.
  if (first !== undefined && !/[.:]/.test(first) && first !== 'localhost') {
    if (!new RegExp(`^${PART}$`).test(first)) return null;
    return { repository: `${first}/${rest}` };
  }
  return first === undefined ? { repository: rest } : { registry: first, repository: `${first}/${rest}` };
}

/** The prefix of a build's `artifacts[component]` that holds an image component's pinned image instead of a slug's sha256. */
export const IMAGE_ARTIFACT = 'image:';

/** The pinned image an artifact entry names, or undefined for a slug. */
export function imageOfArtifact(artifact: string | undefined): string | undefined {
  return artifact?.startsWith(IMAGE_ARTIFACT) ? artifact.slice(IMAGE_ARTIFACT.length) : undefined;
}
