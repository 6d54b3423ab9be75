/**
 * The agent's model: one AppRuntime per app/env, persisted on every change, re-adopted on start.
 * The HTTP API is a thin shell over this class.
 */
import type { AgentEvent, AgentState, DesiredState, ObservedApp } from '../protocol/agent-protocol.js';
import type { AgentContext, AgentLogger } from './app-runtime.js';
import { AppRuntime } from './app-runtime.js';
import { createInstance, label } from './instance.js';
import { isAlive, killLeftoverGroup } from './proc-info.js';
import { slugPath } from './process-commands.js';
import type { RolloutResult } from './rollout.js';
import { runRollout } from './rollout.js';
import type { SlugCache } from './slug-cache.js';
import type { PersistedApp, PersistedState } from './state-file.js';
import { writeState } from './state-file.js';
import { adoptProcess, stopOrphan } from './supervisor.js';

/** An error the API answers with `{ error: { code, message } }` and this status. */
export class AgentHttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface AgentCoreOptions {
  readonly dataDir: string;
  readonly slugs: SlugCache;
  readonly logger: AgentLogger;
  readonly version: string;
  readonly stopGraceMs?: number;
}

const key = (app: string, env: string) => `${app}/${env}`;

export class AgentCore {
  readonly version: string;
  readonly #ctx: AgentContext;
  readonly #runtimes = new Map<string, AppRuntime>();
  #closing = false;

  constructor(opts: AgentCoreOptions) {
    this.version = opts.version;
    this.#ctx = {
      dataDir: opts.dataDir,
      slugs: opts.slugs,
      agentEnv: process.env,
      logger: opts.logger,
      stopGraceMs: opts.stopGraceMs ?? 5000,
      persist: () => this.persist(),
    };
  }

  persist(): void {
    try {
      writeState(this.#ctx.dataDir, { version: 1, apps: [...this.#runtimes.values()].map((rt) => rt.toPersisted()) });
    } catch (err) {
      this.#ctx.logger.error({ err }, 'cannot write the agent state file');
    }
  }

  state(): AgentState {
    return { pid: process.pid, version: this.version, apps: [...this.#runtimes.values()].map((rt) => rt.observe()) };
  }

  observe(app: string, env: string): ObservedApp | null {
    return this.#runtimes.get(key(app, env))?.observe() ?? null;
  }

  recentLogs(app: string, env: string, lines: number): { lines: string[]; follow(fn: (line: string) => void, onEnd: () => void): () => void } | null {
    const rt = this.#runtimes.get(key(app, env));
    if (!rt) return null;
    return { lines: rt.log.recent(lines), follow: (fn, onEnd) => rt.log.follow(fn, onEnd) };
  }

  /** Starts a rollout; throws a 409 while another one runs for the same app/env. */
  deploy(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<RolloutResult> {
    if (this.#closing) throw new AgentHttpError(503, 'AGENT_CLOSING', 'the agent is shutting down; retry in a moment');
    const id = key(desired.app, desired.env);
    let rt = this.#runtimes.get(id);
    if (rt?.rollout) {
      throw new AgentHttpError(409, 'ROLLOUT_IN_PROGRESS', `a rollout of ${rt.rollout.release} to ${desired.app} (${desired.env}) is in progress; wait for it to finish`);
    }
    if (rt?.removing) throw new AgentHttpError(409, 'APP_BEING_REMOVED', `${desired.app} (${desired.env}) is being removed; deploy again once that is done`);
    if (!rt) {
      rt = new AppRuntime(this.#ctx, desired.app, desired.env, desired.proxyPort);
      this.#runtimes.set(id, rt);
    }
    const runtime = rt;
    const abort = new AbortController();
    runtime.rollout = { release: desired.release, ...(desired.deployment ? { deployment: desired.deployment } : {}), phase: 'queued' };
    runtime.rolloutAbort = abort;
    const emit = (message: string) => onEvent({ type: 'log', at: new Date().toISOString(), message });
    const done = runRollout(runtime, desired, emit, abort.signal).finally(() => {
      runtime.rollout = null;
      runtime.rolloutAbort = null;
      runtime.rolloutDone = null;
      // A first deploy that could not even open its proxy leaves nothing behind.
      if (runtime.release === null && runtime.instances.length === 0 && runtime.proxy.port === 0 && !runtime.closed) {
        this.#runtimes.delete(id);
        runtime.log.close();
      }
      this.persist();
    });
    runtime.rolloutDone = done;
    return done;
  }

  /** Stops and forgets app/env; a no-op for an unknown one. */
  async remove(app: string, env: string): Promise<void> {
    const rt = this.#runtimes.get(key(app, env));
    if (!rt) return;
    await rt.remove();
    this.#runtimes.delete(key(app, env));
    this.persist();
  }

  /** Re-adopts what the persisted state says runs: living pids are kept, dead ones restarted, leftovers stopped. */
  async adopt(state: PersistedState): Promise<void> {
    for (const app of state.apps) await this.#adoptApp(app);
    this.persist();
  }

  async #adoptApp(p: PersistedApp): Promise<void> {
    const rt = new AppRuntime(this.#ctx, p.app, p.env, p.proxyPort);
    rt.release = p.release;
    rt.desired = p.desired;
    this.#runtimes.set(key(p.app, p.env), rt);
    await rt.proxy.listen(p.proxyPort).catch((err: NodeJS.ErrnoException) => {
      rt.log.system(`cannot reopen proxy port ${p.proxyPort}: ${err.code ?? err.message}; the next deploy will retry`);
      this.#ctx.logger.error({ app: p.app, env: p.env, err }, 'cannot reopen proxy port');
    });
    for (const pi of p.instances) {
      const component = pi.role === 'live' ? p.desired?.components.find((c) => c.name === pi.component) : undefined;
      if (!p.desired || !component) {
        // Started by a rollout that never finished, or being drained when the agent died.
        if (pi.pid !== null && (await stopOrphan(pi.pid, pi.pidStart, this.#ctx.stopGraceMs))) {
          rt.log.system(`stopped ${pi.component}.${pi.id} (pid ${pi.pid}), left over from an interrupted rollout`);
        }
        rt.log.track(pi.component, pi.id, pi.logOffset);
        rt.log.untrack(pi.id, true);
        continue;
      }
      const instance = createInstance({ id: pi.id, desired: p.desired, component, slugDir: slugPath(this.#ctx.dataDir, component.artifact.sha256), role: 'live', port: pi.port, restarts: pi.restarts });
      instance.startedAt = pi.startedAt;
      rt.instances.push(instance);
      rt.log.track(component.name, pi.id, pi.logOffset);
      if (pi.pid !== null && component.command !== undefined && isAlive(pi.pid, pi.pidStart)) {
        const handle = adoptProcess(pi.pid, pi.pidStart);
        instance.handle = handle;
        rt.watch(instance, handle);
        rt.log.system(`re-adopted ${label(instance)} (pid ${pi.pid})${pi.port !== null ? ` on port ${pi.port}` : ''}`);
        rt.markHealthy(instance);
      } else {
        if (component.command !== undefined) rt.log.system(`${label(instance)} (pid ${pi.pid ?? '-'}) is gone; starting it again`);
        else instance.restarts--; // serving static files again after an agent restart is not a crash
        if (pi.pid !== null) killLeftoverGroup(pi.pid);
        void rt.restart(instance);
      }
    }
  }

  /** Stops the proxies and supervision; instances keep running unless `stopInstances`. */
  async close(stopInstances: boolean): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#runtimes.values()].map((rt) => rt.close(stopInstances)));
    this.persist();
  }
}
