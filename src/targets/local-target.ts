/**
 * The `local` target: the Rewind agent on this host, reached over its HTTP API.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RewindError, isRewindError } from '../domain/errors.js';
import type { AgentEvent, AgentSnapshot, DesiredState, ExecEvent, ExecRequest, ObservedApp } from '../protocol/agent-protocol.js';
import type { AgentAddress } from './agent-client.js';
import { AgentClient, AgentRequestError } from './agent-client.js';
import type { ApplyResult, LogOptions, Target } from './target.js';

export interface LocalTargetOptions {
  /** Delay between observations when a rollout's stream broke. */
  readonly pollIntervalMs?: number;
  /** How long to keep observing a rollout whose stream broke; default: its health timeouts + drain + 60s. */
  readonly recoverTimeoutMs?: number;
}

/** Where the agent is and its token: fixed, or a function that finds (or starts) it. */
export type AgentLocator = AgentAddress | (() => Promise<AgentAddress>);

export class LocalTarget implements Target {
  readonly #locate: AgentLocator;
  readonly #options: LocalTargetOptions;
  #client: AgentClient | null = null;

  constructor(agent: AgentLocator, options: LocalTargetOptions = {}) {
    this.#locate = agent;
    this.#options = options;
    if (typeof agent !== 'function') this.#client = new AgentClient(agent.url, { token: agent.token });
  }

  async #agent(refresh = false): Promise<AgentClient> {
    if (this.#client && !(refresh && typeof this.#locate === 'function')) return this.#client;
    const { url, token } = typeof this.#locate === 'function' ? await this.#locate() : this.#locate;
    if (!this.#client?.isFor(url, token)) {
      void this.#client?.close();
      this.#client = new AgentClient(url, { token });
    }
    return this.#client;
  }

  /**
   * Runs `fn`; when the agent does not answer, or refuses the token, and it can be located again
   * (restarted elsewhere, or with another token), retries once.
   */
  async #with<T>(fn: (client: AgentClient) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.#agent());
    } catch (err) {
      const retry = (isRewindError(err) && err.code === 'AGENT_UNAVAILABLE') || (err instanceof AgentRequestError && err.status === 401);
      if (!retry || typeof this.#locate !== 'function') throw err;
      return fn(await this.#agent(true));
    }
  }

  async apply(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<ApplyResult> {
    let result;
    try {
      result = await this.#with((client) => client.deploy(desired, onEvent));
    } catch (err) {
      if (err instanceof AgentRequestError && err.status === 409) throw new RewindError('DEPLOYMENT_IN_PROGRESS', err.message);
      if (err instanceof AgentRequestError && err.status === 400) throw new RewindError('AGENT_REFUSED', err.message);
      throw err;
    }
    if (result) return result.ok ? { ok: true, release: result.release } : { ok: false, release: result.release, error: result.error };
    onEvent({ type: 'log', at: new Date().toISOString(), message: 'Lost the connection to the agent; waiting for the rollout to finish' });
    return this.#awaitRollout(desired);
  }

  /** The stream broke without a result: observe until the agent no longer reports the rollout, then say what runs. */
  async #awaitRollout(desired: DesiredState): Promise<ApplyResult> {
    const longestHealth = Math.max(0, ...desired.components.map((c) => c.health.timeoutMs));
    const deadline = Date.now() + (this.#options.recoverTimeoutMs ?? longestHealth + desired.drainTimeoutMs + 60_000);
    let observed: ObservedApp | null = null;
    let reached = false;
    while (Date.now() < deadline) {
      try {
        observed = await this.#with((client) => client.observe(desired.app, desired.env));
        reached = true;
        if (!observed?.rollout || observed.rollout.release !== desired.release) break;
      } catch (err) {
        if (!isRewindError(err) || err.code !== 'AGENT_UNAVAILABLE') throw err;
        reached = false;
      }
      await sleep(this.#options.pollIntervalMs ?? 500);
    }
    const release = observed?.release ?? null;
    if (reached && !observed?.rollout && release === desired.release) return { ok: true, release };
    const why = !reached
      ? 'the agent stopped answering during the rollout'
      : observed?.rollout
        ? `the rollout of ${desired.release} did not finish in time`
        : `the connection to the agent broke during the rollout and ${desired.release} is not the running release`;
    return { ok: false, release, error: why };
  }

  observe(app: string, env: string): Promise<ObservedApp | null> {
    return this.#with((client) => client.observe(app, env));
  }

  async observeAll(): Promise<readonly ObservedApp[]> {
    return (await this.#with((client) => client.state())).apps;
  }

  logs(app: string, env: string, options: LogOptions): Promise<Readable> {
    return this.#with(async (client) => {
      try {
        return await client.logs(app, env, options);
      } catch (err) {
        // Nothing was ever deployed there: no lines.
        if (err instanceof AgentRequestError && err.status === 404) return Readable.from([]);
        throw err;
      }
    });
  }

  snapshot(app: string, env: string): Promise<AgentSnapshot> {
    return this.#with((client) => client.snapshot(app, env));
  }

  exec(app: string, env: string, request: ExecRequest, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    return this.#with(async (client) => {
      try {
        return await client.exec(app, env, request, signal);
      } catch (err) {
        if (err instanceof AgentRequestError && err.code === 'APP_NOT_FOUND') throw new RewindError('NOTHING_RUNS', err.message);
        if (err instanceof AgentRequestError && err.code === 'COMPONENT_NOT_FOUND') throw new RewindError('COMPONENT_NOT_FOUND', err.message);
        if (err instanceof AgentRequestError && err.status === 400) throw new RewindError('AGENT_REFUSED', err.message);
        throw err;
      }
    });
  }

  remove(app: string, env: string): Promise<void> {
    return this.#with((client) => client.remove(app, env));
  }

  async close(): Promise<void> {
    await this.#client?.close();
    this.#client = null;
  }
}
