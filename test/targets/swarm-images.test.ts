/** Image components' pins (issue 12 item 1): what SwarmTarget.resolveImage answers for the lab's images. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import { DockerEngine } from '../../src/targets/swarm/docker-engine.js';
import type { SwarmTarget } from '../../src/targets/swarm/swarm-target.js';
import { dockerHost, labTarget, labTitle, newRun, requireLabInCi } from './swarm-lab.js';

const registry = process.env.REWIND_TEST_REGISTRY;

requireLabInCi('SwarmTarget.resolveImage');

describe.skipIf(!dockerHost)(labTitle('SwarmTarget.resolveImage'), () => {
  let target: SwarmTarget;
  let engine: DockerEngine;
  beforeAll(() => {
    target = labTarget(newRun().labels);
    engine = new DockerEngine(dockerHost!);
  });
  afterAll(async () => {
    await target?.close();
    await engine?.close();
  });

  it('pins a reference without a registry by its image id', async () => {
    const id = (await engine.imageInspect('rewind-test/web:1.12')).id;
    expect(await target.resolveImage('rewind-test/web:1.12')).toEqual({ pinned: id, digest: id });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.skipIf(!registry)("pins a registry's reference by the registry's digest", async () => {
    const pin = await target.resolveImage(`${registry}/rewind-test/web:1.12`);
    expect(pin.pinned).toMatch(new RegExp(`^${registry!.replace(/\./g, '\\.')}/rewind-test/web@sha256:[0-9a-f]{64}$`));
    expect(pin.pinned.endsWith(`@${pin.digest}`)).toBe(true);
  });

  it('refuses an image the daemon does not have, in one line', async () => {
    const err = await target.resolveImage('rewind-test/web:9.99').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RewindError);
    expect((err as RewindError).code).toBe('IMAGE_NOT_FOUND');
    expect((err as RewindError).message).toBe(
      "image rewind-test/web:9.99 is not on the swarm manager's Docker Engine; build or pull it there (or push it to the registry and name it REGISTRY/NAME:TAG)",
    );
  });
});
