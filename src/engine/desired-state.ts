import type { Release } from '../domain/release.js';
import type { DesiredState } from '../protocol/agent-protocol.js';
import { valueOf } from '../domain/records.js';
import { imageOfArtifact } from '../domain/image-ref.js';

export interface DesiredStateInput {
  readonly release: Release;
  readonly deployment?: string;
  readonly proxyPort: number;
  /** `${build}/${component}` → { sha256, path } of that component's slug (see slugKey), or the pinned image of an image component */
  readonly artifacts: ReadonlyMap<string, ComponentArtifact>;
  /** component → stable proxy port, for HTTP components other than the one on proxyPort */
  readonly routes?: Readonly<Record<string, number>>;
  readonly drainTimeoutMs: number;
  readonly standby?: { readonly keepMs: number; readonly count: number };
  /** Watch window for an automatic rollback after the switch; 0 or absent: no watch. */
  readonly autoRollbackMs?: number;
}

/** What the target must run for a release: pure, from values only. */
export function desiredStateFor(input: DesiredStateInput): DesiredState {
  const { release } = input;
  const components = Object.values(release.manifest?.components ?? {})
    .filter((c) => valueOf(release.builds, c.name) !== undefined)
    .map((c) => {
      const build = valueOf(release.builds, c.name) as string;
      const artifact = input.artifacts.get(slugKey(build, c.name));
      if (!artifact) throw new Error(`no artifact for build ${build} of component ${c.name}`);
      return {
        name: c.name,
        ...(c.command !== undefined ? { command: c.command } : {}),
        ...(c.static !== undefined ? { static: c.static } : {}),
        port: c.port,
        health: c.health,
        scale: c.scale,
        build,
        artifact: { sha256: artifact.sha256, path: artifact.path },
        ...(artifact.image !== undefined ? { image: artifact.image } : {}),
      };
    });
  return {
    app: release.app,
    env: release.env,
    release: release.id,
    ...(input.deployment ? { deployment: input.deployment } : {}),
    proxyPort: input.proxyPort,
    ...(input.routes && Object.keys(input.routes).length ? { routes: input.routes } : {}),
    config: release.config,
    components,
    drainTimeoutMs: input.drainTimeoutMs,
    ...(input.standby ? { standby: input.standby } : {}),
    ...(input.autoRollbackMs ? { autoRollback: { windowMs: input.autoRollbackMs } } : {}),
  };
}

/** What a component's build runs: a slug (its sha256 and file), or for an image component its pinned image (no file). */
export interface ComponentArtifact {
  readonly sha256: string;
  readonly path: string;
  readonly image?: string;
}

/** A build's `artifacts[component]` entry as the desired state carries it: `image:PINNED` or a slug's sha256. */
export function componentArtifact(entry: string, slugPath: (sha256: string) => string): ComponentArtifact {
  const image = imageOfArtifact(entry);
  if (image === undefined) return { sha256: entry, path: slugPath(entry) };
  return { sha256: image.slice(image.indexOf('sha256:') + 'sha256:'.length), path: '', image };
}

export const slugKey = (build: string, component: string) => `${build}/${component}`;
