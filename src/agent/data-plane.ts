/**
 * Who serves the proxy ports. The agent's model (runtimes, rollouts) only talks to this port:
 * the built-in plane proxies in Node; the nginx plane (nginx-plane.ts) renders nginx configuration
 * and reloads its own nginx master.
 */
import type { AppProxy, ProxyBinding, Upstream } from './proxy.js';
import { AppProxy as BuiltinProxy, drain } from './proxy.js';
import { SharedProxy } from './shared-proxy.js';

/** Finds the main binding (web component) of app/env, for the shared host-name port. */
export type BindingLookup = (app: string, env: string) => ProxyBinding | undefined;

export interface DataPlane {
  readonly kind: 'builtin' | 'nginx';
  /** The shared host-name port once open. */
  readonly sharedPort: number | null;
  /** A port of app/env (not bound until its listen()). */
  createBinding(app: string, env: string): ProxyBinding;
  /** Opens the shared port (0: any free one); resolves with the bound port. */
  openShared(port: number, find: BindingLookup): Promise<number>;
  /** Resolves once every routing change made so far serves (nginx: its reload is done). Rejects when it cannot. */
  settle(): Promise<void>;
  /** Waits until nothing is in flight on `upstreams` any more, or `timeoutMs`; true when drained. */
  drain(upstreams: readonly Upstream[], timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Ends what is still in flight on `upstreams` (their drain timeout passed). */
  cut(upstreams: readonly Upstream[]): void;
  /** Stops serving the shared port; nginx stops too when `stopServing`, else it keeps serving for the next agent. */
  close(stopServing: boolean): Promise<void>;
}

export class BuiltinPlane implements DataPlane {
  readonly kind = 'builtin' as const;
  #shared: SharedProxy | null = null;

  get sharedPort(): number | null {
    return this.#shared?.port || null;
  }

  createBinding(app: string, env: string): ProxyBinding {
    return new BuiltinProxy(app, env);
  }

  async openShared(port: number, find: BindingLookup): Promise<number> {
    const shared = new SharedProxy((app, env) => find(app, env) as AppProxy | undefined);
    const bound = await shared.listen(port);
    this.#shared = shared;
    return bound;
  }

  async settle(): Promise<void> {}

  drain(upstreams: readonly Upstream[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return drain(upstreams, timeoutMs, signal);
  }

  cut(upstreams: readonly Upstream[]): void {
    for (const u of upstreams) u.cut();
  }

  async close(): Promise<void> {
    await this.#shared?.close();
    this.#shared = null;
  }
}
