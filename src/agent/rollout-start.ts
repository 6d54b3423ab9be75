/**
 * Starting a rollout's new instances: their slugs, each instance in its own working copy on a
 * port of its own, then their health with a deadline; the first failure fails the rollout.
 */
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DesiredComponent } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import type { HealthOutcome } from './health-check.js';
import { describeHealth, waitHealthy } from './health-check.js';
import type { Instance } from './instance.js';
import { createInstance, label, newInstanceId } from './instance.js';
import { freePort } from './proc-info.js';
import { servesHttp } from './process-commands.js';
import type { Rollout } from './rollout-progress.js';
import { RolloutFailed, checkAborted, enterPhase } from './rollout-progress.js';
import { describeExit } from './supervisor.js';
import { workDirPath } from './work-copy.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Prepares the slugs, starts every instance of `components` (added to `fresh`) and waits until all are healthy. */
export async function startFresh(rollout: Rollout, components: readonly DesiredComponent[]): Promise<void> {
  const { runtime, desired, fresh, say, signal } = rollout;
  const slugs = new Map<string, string>();
  for (const c of components) {
    if (slugs.has(c.artifact.sha256)) continue;
    say(`Preparing slug of ${c.build} (sha256 ${c.artifact.sha256.slice(0, 12)})`);
    // An app removal does not wait for a slug that is still being hashed or unpacked.
    const slug = untilAborted(runtime.ctx.slugs.ensure(c.artifact), signal);
    slugs.set(c.artifact.sha256, await slug.catch((err: Error) => Promise.reject(new RolloutFailed(err.message))));
    checkAborted(rollout);
  }
  for (const c of components) {
    if (c.command === undefined) await checkStaticDir(slugs.get(c.artifact.sha256) as string, c.name, c.static);
  }

  enterPhase(rollout, 'starting');
  const taken = new Set(runtime.instances.map((i) => i.id));
  const starting: Instance[] = [];
  for (const component of components) {
    for (let n = 0; n < component.scale; n++) {
      const id = newInstanceId(taken);
      taken.add(id);
      let port = servesHttp(component) ? await freePort() : null;
      // The probe socket is closed at once, so the kernel may offer the same port twice.
      while (port !== null && (fresh.some((i) => i.port === port) || runtime.instances.some((i) => i.port === port))) port = await freePort();
      const instance = createInstance({
        id,
        desired,
        component,
        workDir: workDirPath(runtime.ctx.dataDir, runtime.app, runtime.env, `${component.name}.${id}`),
        role: 'starting',
        port,
      });
      runtime.instances.push(instance);
      fresh.push(instance);
      starting.push(instance);
    }
  }
  for (const instance of starting) {
    await runtime.start(instance, say).catch((err: Error) => Promise.reject(new RolloutFailed(`cannot start ${label(instance)}: ${err.message}`)));
  }
  // Durable before going on: an agent killed from here on re-adopts the new processes.
  await runtime.ctx.persist();
  checkAborted(rollout);

  enterPhase(rollout, 'health');
  if (starting.length > 0) {
    const specs = [...new Set(components.filter((c) => c.scale > 0).map((c) => `${c.name}: ${describeHealth(c.health, servesHttp(c))}`))];
    say(`Waiting for ${plural(starting.length, 'instance')} to be healthy (${specs.join('; ')})`);
  }
  const failure = await waitAllHealthy(runtime, starting, say, signal);
  checkAborted(rollout);
  if (failure) throw new RolloutFailed(failure);
  const died = starting.find((i) => i.state !== 'healthy' && i.state !== 'running');
  if (died) throw new RolloutFailed(`${label(died)} stopped before traffic was switched${lastLines(runtime, died)}`);
}

async function checkStaticDir(slugDir: string, component: string, dir: string | undefined): Promise<void> {
  const root = join(slugDir, dir ?? '.');
  const info = await stat(root).catch(() => null);
  if (relative(slugDir, root).startsWith('..') || !info?.isDirectory()) {
    throw new RolloutFailed(`component ${component}: static folder "${dir ?? '.'}" is not a folder of the build`);
  }
}

/** Waits for every new instance; the first failure aborts the others and is returned. */
async function waitAllHealthy(runtime: AppRuntime, fresh: readonly Instance[], say: (m: string) => void, signal: AbortSignal): Promise<string | null> {
  const group = new AbortController();
  const onAbort = () => group.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let failure: string | null = null;
  try {
    await Promise.all(
      fresh.map(async (instance) => {
        const handle = instance.handle;
        if (!handle) return;
        const port = servesHttp(instance.component) ? instance.port : null;
        const outcome = await waitHealthy({ port, spec: instance.component.health, exited: handle.exited, signal: group.signal });
        if (outcome.ok) return runtime.markHealthy(instance, say);
        if (outcome.reason === 'aborted' || failure) return;
        if (outcome.reason === 'timeout') instance.state = 'unhealthy';
        failure = explain(runtime, instance, outcome);
        group.abort();
      }),
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return failure;
}

function explain(runtime: AppRuntime, instance: Instance, outcome: Exclude<HealthOutcome, { ok: true }>): string {
  if (outcome.reason === 'exited') return `${label(instance)} ${describeExit(outcome.exit)} during startup${lastLines(runtime, instance)}`;
  if (outcome.reason === 'timeout')
    return `${label(instance)} was not healthy within ${instance.component.health.timeoutMs / 1000}s (${outcome.detail}${portHint(instance, outcome.detail)})${lastLines(runtime, instance)}`;
  return `${label(instance)} was aborted`;
}

/** Nothing listened where the probe knocked: most often an app on a port of its own (a manifest's `port: 3000`) instead of $PORT. */
function portHint(instance: Instance, detail: string): string {
  return instance.port !== null && /ECONNREFUSED/.test(detail) ? `; did ${instance.component.name} listen on $PORT=${instance.port}?` : '';
}

export function lastLines(runtime: AppRuntime, instance: Instance): string {
  runtime.log.pump();
  const lines = runtime.log.lastRawLines(instance.component.name, instance.id, 10);
  return lines.length ? `; its last log lines:\n${lines.map((l) => `  ${l}`).join('\n')}` : '; it wrote nothing to its log';
}

/** `work`, or a rejection as soon as `signal` aborts (the work goes on, unawaited). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('rollout aborted: the agent is shutting down or the app was removed'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('rollout aborted: the agent is shutting down or the app was removed'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
