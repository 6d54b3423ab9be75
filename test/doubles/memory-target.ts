/**
 * A test double of the `Target` port: it runs no process and keeps what "runs" in memory. It
 * passes the Target contract (test/contract/target-contract.ts), so engine tests can stand it in
 * for a real target. Like the agent's fixture app (test/agent/fixtures/app/server.js), a release
 * whose config says `HEALTH=fail` fails its health check. It has no snapshot and no exec (both
 * optional capabilities).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AgentEvent, DesiredState, ObservedApp, ObservedInstance } from '../../src/protocol/agent-protocol.js';
import type { ApplyResult, LogOptions, Target } from '../../src/targets/target.js';

export class MemoryTargetDouble implements Target {
  readonly #apps = new Map<string, ObservedApp>();
  readonly #logs = new Map<string, string[]>();
  #pid = 100_000;

  async apply(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<ApplyResult> {
    const key = `${desired.app}/${desired.env}`;
    const previous = this.#apps.get(key) ?? null;
    const log = (message: string) => {
      const at = new Date().toISOString();
      onEvent({ type: 'log', at, message });
      this.#logs.set(key, [...(this.#logs.get(key) ?? []), `${at} agent ${message}`]);
    };
    log(`Deploying ${desired.release} to ${desired.app} (${desired.env})`);
    if (desired.config.HEALTH === 'fail') {
      const error = `${desired.components[0]?.name ?? 'web'} was not healthy (the double's HEALTH=fail)`;
      log(error);
      const release = previous?.release ?? null;
      onEvent({ type: 'result', at: new Date().toISOString(), ok: false, error, release });
      return { ok: false, release, error };
    }
    const startedAt = new Date().toISOString();
    const instances: ObservedInstance[] = desired.components.flatMap((c) =>
      Array.from(
        { length: c.scale },
        () =>
          ({
            id: randomBytes(3).toString('hex'),
            component: c.name,
            release: desired.release,
            build: c.build,
            pid: this.#pid++,
            port: null,
            state: c.port ? 'healthy' : 'running',
            startedAt,
            restarts: 0,
          }) satisfies ObservedInstance,
      ),
    );
    this.#apps.set(key, { app: desired.app, env: desired.env, release: desired.release, proxyPort: desired.proxyPort, instances });
    log(`Switched traffic to ${desired.release}`);
    onEvent({ type: 'result', at: new Date().toISOString(), ok: true, release: desired.release });
    return { ok: true, release: desired.release };
  }

  async observe(app: string, env: string): Promise<ObservedApp | null> {
    return this.#apps.get(`${app}/${env}`) ?? null;
  }

  async observeAll(): Promise<readonly ObservedApp[]> {
    return [...this.#apps.values()];
  }

  async logs(app: string, env: string, options: LogOptions): Promise<Readable> {
    const lines = (this.#logs.get(`${app}/${env}`) ?? []).slice(-options.lines);
    return Readable.from(lines.map((l) => `${l}\n`));
  }

  async remove(app: string, env: string): Promise<void> {
    this.#apps.delete(`${app}/${env}`);
  }

  async close(): Promise<void> {}
}
