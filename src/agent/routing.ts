/**
 * The ports of one app/env: the main one (its web component, DesiredState.proxyPort), one per other
 * routed component (DesiredState.routes), and the ports kept open for components a later release
 * no longer has, which answer 404. A rollout binds what it needs first (prepare), switches all of
 * them at once (commit), and the runtime feeds each its healthy live instances (refresh).
 */
import type { DesiredState } from '../protocol/agent-protocol.js';
import type { DataPlane } from './data-plane.js';
import type { Instance } from './instance.js';
import { routedComponent } from './process-commands.js';
import type { ProxyBinding, Upstream } from './proxy.js';

/** What a rollout will route to once it switches; `opened` are the bindings it opened itself. */
export interface RoutePlan {
  readonly main: ProxyBinding;
  readonly routes: ReadonlyMap<string, ProxyBinding>;
  readonly opened: readonly ProxyBinding[];
}

export class RouteSet {
  readonly #plane: DataPlane;
  readonly #app: string;
  readonly #env: string;
  main: ProxyBinding;
  routes = new Map<string, ProxyBinding>();
  undeployed = new Map<string, ProxyBinding>();

  constructor(plane: DataPlane, app: string, env: string) {
    this.#plane = plane;
    this.#app = app;
    this.#env = env;
    this.main = plane.createBinding(app, env);
  }

  #all(): ProxyBinding[] {
    return [...new Set([this.main, ...this.routes.values(), ...this.undeployed.values()])];
  }

  #byPort(port: number): ProxyBinding | undefined {
    return this.#all().find((b) => b.port === port);
  }

  /** Binds every port `desired` needs; rejects (closing what it opened) when one cannot be bound. */
  async prepare(desired: DesiredState): Promise<RoutePlan> {
    const opened: ProxyBinding[] = [];
    const bind = async (port: number, what: string): Promise<ProxyBinding> => {
      const existing = this.#byPort(port);
      if (existing) return existing;
      // A first deploy binds the main binding the runtime was created with.
      const binding = this.main.port === 0 && !opened.includes(this.main) ? this.main : this.#plane.createBinding(this.#app, this.#env);
      try {
        await binding.listen(port);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`cannot listen on ${what} port ${port}: ${e.code ?? e.message}`);
      }
      opened.push(binding);
      return binding;
    };
    try {
      const main = await bind(desired.proxyPort, 'proxy');
      const routes = new Map<string, ProxyBinding>();
      for (const [component, port] of Object.entries(desired.routes ?? {})) routes.set(component, await bind(port, `component ${component}'s`));
      return { main, routes, opened };
    } catch (err) {
      await this.abandon({ main: this.main, routes: new Map(), opened });
      throw err;
    }
  }

  /** Closes what a plan opened (its rollout failed). The runtime's own main binding is kept, unbound or not. */
  async abandon(plan: RoutePlan): Promise<void> {
    await Promise.all(plan.opened.filter((b) => b !== this.main).map((b) => b.close()));
  }

  /**
   * Switches to `plan`: routes of components `desired` lacks keep their port, answering 404; other
   * bindings no longer used are returned, to be closed once the old instances are drained.
   */
  commit(plan: RoutePlan, desired: DesiredState): ProxyBinding[] {
    const used = new Set([plan.main, ...plan.routes.values()]);
    const present = new Set(desired.components.map((c) => c.name));
    const undeployed = new Map<string, ProxyBinding>();
    const unused: ProxyBinding[] = [];
    for (const [component, binding] of [...this.undeployed, ...this.routes]) {
      if (used.has(binding) || unused.includes(binding) || [...undeployed.values()].includes(binding)) continue;
      if (!present.has(component) && !undeployed.has(component)) undeployed.set(component, binding);
      else unused.push(binding);
    }
    if (!used.has(this.main) && !unused.includes(this.main) && ![...undeployed.values()].includes(this.main)) unused.push(this.main);
    for (const binding of used) binding.setNotDeployed(null);
    for (const [component, binding] of undeployed) {
      binding.setNotDeployed(component);
      binding.setUpstreams([]);
    }
    this.main = plan.main;
    this.routes = new Map(plan.routes);
    this.undeployed = undeployed;
    return unused;
  }

  /** Gives each binding the healthy live instances of its component. */
  refresh(instances: readonly Instance[], desired: DesiredState | null): void {
    const routed = desired ? routedComponent(desired.components)?.name : undefined;
    const live = instances.filter((i) => i.role === 'live' && i.upstream !== null && i.state === 'healthy');
    const of = (component: string | undefined) => live.filter((i) => i.component.name === component).map((i) => i.upstream as Upstream);
    this.main.setUpstreams(of(routed));
    for (const [component, binding] of this.routes) binding.setUpstreams(of(component));
  }

  /** Re-opens the ports recorded in the state file (after an agent restart); failures are returned, not thrown. */
  async reopen(proxyPort: number, routes: Readonly<Record<string, number>>, undeployed: Readonly<Record<string, number>>): Promise<string[]> {
    const problems: string[] = [];
    const open = async (binding: ProxyBinding, port: number, what: string) => {
      await binding.listen(port).catch((err: NodeJS.ErrnoException) => problems.push(`cannot reopen ${what} port ${port}: ${err.code ?? err.message}`));
    };
    await open(this.main, proxyPort, 'proxy');
    for (const [component, port] of Object.entries(routes)) {
      const binding = this.#plane.createBinding(this.#app, this.#env);
      await open(binding, port, `component ${component}'s`);
      this.routes.set(component, binding);
    }
    for (const [component, port] of Object.entries(undeployed)) {
      const binding = this.#plane.createBinding(this.#app, this.#env);
      binding.setNotDeployed(component);
      await open(binding, port, `component ${component}'s`);
      this.undeployed.set(component, binding);
    }
    return problems;
  }

  /** Component → port of the deployed routes, and of the 404 ones. */
  ports(): { routes: Record<string, number>; undeployed: Record<string, number> } {
    const of = (map: ReadonlyMap<string, ProxyBinding>) => Object.fromEntries([...map].filter(([, b]) => b.port > 0).map(([c, b]) => [c, b.port]));
    return { routes: of(this.routes), undeployed: of(this.undeployed) };
  }

  /** Closes every port; what they were stays known, to be persisted and reopened by the next agent. */
  async close(): Promise<void> {
    await Promise.all(this.#all().map((b) => b.close()));
  }
}
