/**
 * Agent start: re-adopts what the persisted state says runs. Living pids are kept, dead ones
 * restarted, leftovers (of an interrupted rollout, an expired standby, or never recorded) stopped.
 */
import { resolve } from 'node:path';
import type { DesiredState } from '../protocol/agent-protocol.js';
import type { AgentContext } from './agent-context.js';
import { AppRuntime } from './app-runtime.js';
import type { Instance } from './instance.js';
import { createInstance, label } from './instance.js';
import { isAlive, killLeftoverGroup, markedLeaders, processStartTime } from './proc-info.js';
import { slugPath } from './process-commands.js';
import { armWatch } from './release-watch.js';
import type { PersistedApp, PersistedInstance } from './state-file.js';
import { adoptProcess, stopOrphan } from './supervisor.js';

export const runtimeKey = (app: string, env: string) => `${app}/${env}`;

/** Rebuilds the runtime of one persisted app/env (registered in `runtimes` at once) and re-adopts its instances. */
export async function adoptApp(ctx: AgentContext, runtimes: Map<string, AppRuntime>, persisted: PersistedApp): Promise<void> {
  const runtime = new AppRuntime(ctx, persisted.app, persisted.env, persisted.proxyPort);
  runtime.release = persisted.release;
  runtime.desired = persisted.desired;
  runtime.previous = persisted.previous ?? null;
  runtime.autoRollbacks = [...(persisted.autoRollbacks ?? [])];
  runtimes.set(runtimeKey(persisted.app, persisted.env), runtime);
  const problems = await runtime.routing.reopen(persisted.proxyPort, persisted.routes ?? {}, persisted.undeployedRoutes ?? {});
  for (const problem of problems) {
    runtime.log.system(`${problem}; the next deploy will retry`);
    ctx.logger.error({ app: persisted.app, env: persisted.env }, problem);
  }
  const now = Date.now();
  const standby = new Map((persisted.standby ?? []).filter((s) => Date.parse(s.until) > now).map((s) => [s.desired.release, s.desired]));
  for (const s of persisted.standby ?? []) if (standby.has(s.desired.release)) runtime.standby.add(s.desired, Date.parse(s.until));
  for (const record of persisted.instances) {
    const desired = record.role === 'live' ? persisted.desired : record.role === 'standby' ? standby.get(record.release) : undefined;
    const component = desired?.components.find((c) => c.name === record.component);
    if (!desired || !component) {
      await stopLeftover(ctx, runtime, record);
      continue;
    }
    // An instance an older agent started runs in the slug itself (no `dir` recorded); its next start makes a copy.
    const workDir = record.dir ?? slugPath(ctx.dataDir, component.artifact.sha256);
    const instance = createInstance({ id: record.id, desired, component, workDir, role: record.role, port: record.port, restarts: record.restarts });
    instance.startedAt = record.startedAt;
    runtime.instances.push(instance);
    runtime.log.track(component.name, record.id, record.logOffset);
    adoptInstance(runtime, instance, record);
  }
  const watch = persisted.watch;
  if (watch && runtime.previous && watch.release === runtime.release && Date.parse(watch.until) > now) {
    const windowMs = persisted.desired?.autoRollback?.windowMs ?? Date.parse(watch.until) - now;
    armWatch(runtime, persisted.desired as DesiredState, runtime.previous, windowMs, watch.crashes, Date.parse(watch.until));
  }
}

/** A recorded instance no release wants any more: stopped if it still runs, its log closed. */
async function stopLeftover(ctx: AgentContext, runtime: AppRuntime, record: PersistedInstance): Promise<void> {
  // Started by a rollout that never finished, being retired when the agent died, or an expired standby.
  if (record.pid !== null && (await stopOrphan(record.pid, record.pidStart, ctx.stopGraceMs))) {
    runtime.log.system(
      `stopped ${record.component}.${record.id} (pid ${record.pid}), left over from ${record.role === 'standby' ? 'an expired standby' : 'an interrupted rollout'}`,
    );
  }
  runtime.log.track(record.component, record.id, record.logOffset);
  runtime.log.untrack(record.id, true);
}

function adoptInstance(runtime: AppRuntime, instance: Instance, record: PersistedInstance): void {
  const component = instance.component;
  if (record.pid !== null && component.command !== undefined && isAlive(record.pid, record.pidStart)) {
    const handle = adoptProcess(record.pid, record.pidStart);
    instance.handle = handle;
    runtime.watchExit(instance, handle);
    runtime.log.system(
      `re-adopted ${label(instance)} (pid ${record.pid})${record.port !== null ? ` on port ${record.port}` : ''}${record.role === 'standby' ? ' on standby' : ''}`,
    );
    runtime.markHealthy(instance);
    return;
  }
  if (component.command !== undefined) runtime.log.system(`${label(instance)} (pid ${record.pid ?? '-'}) is gone; starting it again`);
  else instance.restarts--; // serving static files again after an agent restart is not a crash
  if (record.pid !== null) killLeftoverGroup(record.pid);
  void runtime.restart(instance);
}

/**
 * Kills the instances this agent's predecessor started but did not live to write down (killed
 * between a spawn and the state file's next write): nothing tracks them, and they never served.
 */
export function stopUnknownInstances(ctx: AgentContext, runtimes: ReadonlyMap<string, AppRuntime>): void {
  const known = new Set([...runtimes.values()].flatMap((runtime) => runtime.instances.map((i) => `${runtime.app}/${runtime.env}/${label(i)}`)));
  for (const leader of markedLeaders(resolve(ctx.dataDir))) {
    if (known.has(`${leader.app}/${leader.env}/${leader.instance}`)) continue;
    // Stopped in the background (TERM, then KILL after the grace): serving must not wait for it.
    void stopOrphan(leader.pid, processStartTime(leader.pid), ctx.stopGraceMs);
    const message = `stopping ${leader.instance} (pid ${leader.pid}): started by the previous agent, which did not live to record it`;
    runtimes.get(runtimeKey(leader.app, leader.env))?.log.system(message);
    ctx.logger.warn({ app: leader.app, env: leader.env, pid: leader.pid, instance: leader.instance }, message);
  }
}
