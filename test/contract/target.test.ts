/** The Target contract, run against each target: adding one (e.g. Swarm) is one more line. */
import { join } from 'node:path';
import { runAgent } from '../../src/agent/agent-main.js';
import { freePort } from '../../src/agent/proc-info.js';
import { LocalTarget } from '../../src/targets/local-target.js';
import { DockerEngine } from '../../src/targets/swarm/docker-engine.js';
import { artifactRoot, desiredState, packApp, removeTempDirs, stopAgent, tempDir, web } from '../agent/helpers.js';
import { MemoryTargetDouble } from '../doubles/memory-target.js';
import { dockerHost, labImages, labTarget, labTitle, newRun, removeRun, requireLabInCi, swarmDesired } from '../targets/swarm-lab.js';
import type { DesiredSpec, TargetUnderTest } from './target-contract.js';
import { describe, it } from 'vitest';
import { describeTarget } from './target-contract.js';

/** The fixture app's desired state (test/agent/fixtures/app): `HEALTH=fail` makes its /health answer 500. */
const fixtureState = async (spec: DesiredSpec, artifact: { sha256: string; path: string }) => ({
  ...desiredState(
    spec.release,
    await freePort(),
    [web(artifact, spec.failHealth ? { health: { path: '/health', timeoutMs: 800, intervalMs: 50 } } : {})],
    spec.failHealth ? { HEALTH: 'fail' } : {},
    spec.app,
  ),
  env: spec.env,
  standby: { keepMs: 0, count: 0 },
});

/** The local target over a real in-process agent: real instance processes, real HTTP; everything it started is killed by pid afterwards. */
async function localTarget(): Promise<TargetUnderTest> {
  const dir = join(tempDir(), 'agent');
  const [v1, v2] = await Promise.all([packApp('v1'), packApp('v2')]);
  const agent = await runAgent({ port: 0, log: false, artifactRoot: artifactRoot(), stopGraceMs: 2000, dataDir: dir });
  const target = new LocalTarget(agent);
  const ports = new Map<string, number>();
  return {
    target,
    async desired(spec) {
      const state = await fixtureState(spec, spec.version === 'v1' ? v1 : v2);
      // A release of app/env keeps its proxy port (the engine gives each environment one).
      const key = `${spec.app}/${spec.env}`;
      const proxyPort = ports.get(key) ?? state.proxyPort;
      ports.set(key, proxyPort);
      return { ...state, proxyPort };
    },
    async dispose() {
      await target.close();
      try {
        await stopAgent(agent, dir);
      } finally {
        removeTempDirs();
      }
    },
  };
}

async function memoryDouble(): Promise<TargetUnderTest> {
  const target = new MemoryTargetDouble();
  const artifact = { sha256: 'f'.repeat(64), path: '/nowhere/app.tar.gz' };
  return { target, desired: (spec) => fixtureState(spec, artifact), dispose: () => target.close() };
}

/**
 * The Swarm target on the lab's one-node swarm (REWIND_TEST_DOCKER_HOST): one image component
 * `web`, v1 = rewind-test/web:1.11, v2 = :1.12, failHealth = :broken (no /health), pinned by image
 * id. Its services carry this run's label and are all removed afterwards.
 */
async function swarmTarget(): Promise<TargetUnderTest> {
  const engine = new DockerEngine(dockerHost!);
  const images = await labImages(engine).finally(() => engine.close());
  const { run, labels } = newRun();
  const target = labTarget(labels);
  return {
    target,
    async desired(spec) {
      const image = spec.failHealth ? images.broken : spec.version === 'v1' ? images.v1 : images.v2;
      const health = { path: '/health', timeoutMs: spec.failHealth ? 1500 : 10_000, intervalMs: 100 };
      return swarmDesired({ ...spec, image, health });
    },
    async dispose() {
      try {
        await removeRun(run);
      } finally {
        await target.close();
      }
    },
  };
}

describeTarget('local agent', localTarget);
describeTarget('in-memory double', memoryDouble);
requireLabInCi('Target contract (swarm)');
if (dockerHost) describeTarget(labTitle('swarm'), swarmTarget);
else if (process.env.CI !== 'true') {
  describe.skip(`Target contract (${labTitle('swarm')})`, () => {
    it('applies, observes, logs and removes on a swarm', () => {});
  });
}
