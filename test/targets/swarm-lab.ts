/**
 * What the Swarm target's suites share: the lab daemon at REWIND_TEST_DOCKER_HOST (`node
 * scripts/lab/docker-lab.mjs start` prints it; in CI a missing one is an error), the lab's images
 * pinned by id, desired states of one image component `web`, and a label per run that marks every
 * service a suite makes so that it removes them all afterwards, even when a test failed.
 */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import type { DesiredComponent, DesiredState } from '../../src/protocol/agent-protocol.js';
import { DockerEngine } from '../../src/targets/swarm/docker-engine.js';
import { SwarmTarget, type SwarmTargetOptions } from '../../src/targets/swarm/swarm-target.js';

export const dockerHost = process.env.REWIND_TEST_DOCKER_HOST;

/** A suite's title: where it runs, or why it is skipped. */
export function labTitle(what: string): string {
  return dockerHost
    ? `${what} against the lab at ${dockerHost}`
    : `${what}: skipped, REWIND_TEST_DOCKER_HOST is unset (start one: node scripts/lab/docker-lab.mjs start)`;
}

/** In CI the lab must be there: a missing one is a failing test, not a skip. */
export function requireLabInCi(what: string): void {
  if (dockerHost || process.env.CI !== 'true') return;
  describe(what, () => {
    it('runs in CI (REWIND_TEST_DOCKER_HOST is unset)', () => {
      throw new Error('CI=true but REWIND_TEST_DOCKER_HOST is unset: .ci/run starts the lab (node scripts/lab/docker-lab.mjs start) and exports it');
    });
  });
}

export interface LabImages {
  readonly v1: string;
  readonly v2: string;
  readonly broken: string;
}

/** rewind-test/web:1.11, :1.12 and :broken (no /health), pinned by image id. */
export async function labImages(engine: DockerEngine): Promise<LabImages> {
  const [v1, v2, broken] = await Promise.all(['1.11', '1.12', 'broken'].map(async (tag) => (await engine.imageInspect(`rewind-test/web:${tag}`)).id));
  return { v1, v2, broken };
}

export interface SwarmSpec {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  readonly image: string;
  readonly scale?: number;
  readonly health?: DesiredComponent['health'];
  readonly standby?: DesiredState['standby'];
  readonly config?: Record<string, string>;
}

/** One image component `web` on port 80 with GET /health; no standby unless asked. */
export function swarmDesired(spec: SwarmSpec): DesiredState {
  const web: DesiredComponent = {
    name: 'web',
    port: true,
    health: spec.health ?? { path: '/health', timeoutMs: 10_000, intervalMs: 100 },
    scale: spec.scale ?? 1,
    build: `B${spec.image.slice(7, 17).toUpperCase()}`,
    // Image components carry no slug; the field is required by the protocol.
    artifact: { sha256: spec.image.slice(7), path: '/nowhere/image-component.tar.gz' },
    image: spec.image,
  };
  return {
    app: spec.app,
    env: spec.env,
    release: spec.release,
    deployment: `D${spec.release}`,
    proxyPort: 18_080,
    config: { GREETING: 'hello', ...spec.config },
    components: [web],
    drainTimeoutMs: 1000,
    standby: spec.standby ?? { keepMs: 0, count: 0 },
  };
}

/** A run's label: every service made by a target from `labTarget` carries it. */
export function newRun(): { run: string; labels: Record<string, string> } {
  const run = randomUUID().slice(0, 8);
  return { run, labels: { 'rewind.test': '1', 'rewind.test.run': run } };
}

export function labTarget(labels: Record<string, string>, options: Partial<SwarmTargetOptions> = {}): SwarmTarget {
  return new SwarmTarget({ docker: dockerHost!, labels, startTimeoutMs: 30_000, ...options });
}

/** Removes every service of the run. */
export async function removeRun(run: string): Promise<void> {
  const engine = new DockerEngine(dockerHost!);
  try {
    const mine = await engine.listServices({ 'rewind.test.run': run });
    await Promise.all(mine.map((s) => engine.removeService(s.ID).catch(() => {})));
  } finally {
    await engine.close();
  }
}
