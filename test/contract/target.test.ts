/** The Target contract, run against each target: adding one (e.g. Swarm) is one more line. */
import { join } from 'node:path';
import { runAgent } from '../../src/agent/agent-main.js';
import { freePort } from '../../src/agent/proc-info.js';
import { LocalTarget } from '../../src/targets/local-target.js';
import { artifactRoot, desiredState, packApp, removeTempDirs, stopAgent, tempDir, web } from '../agent/helpers.js';
import { MemoryTargetDouble } from '../doubles/memory-target.js';
import type { DesiredSpec, TargetUnderTest } from './target-contract.js';
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

describeTarget('local agent', localTarget);
describeTarget('in-memory double', memoryDouble);
