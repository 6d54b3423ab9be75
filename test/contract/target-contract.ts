/**
 * The `Target` contract (src/targets/target.ts): what every place an environment runs must do.
 * `describeTarget` runs it against one adapter; test/contract/target.test.ts lists the adapters
 * (the real local target over a real agent, and the in-memory double). Another target, e.g.
 * Swarm, is one more `describeTarget(...)` line there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent, DesiredState, ExecEvent } from '../../src/protocol/agent-protocol.js';
import type { Target } from '../../src/targets/target.js';

/** What a suite asks of a release it applies. */
export interface DesiredSpec {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  /** Which version of the test app it serves. */
  readonly version: 'v1' | 'v2';
  /** A release whose health check fails (it must never take traffic). */
  readonly failHealth?: boolean;
}

/** A target to test, how to build desired states it can run (its artifacts, its ports), and how to throw it away. */
export interface TargetUnderTest {
  readonly target: Target;
  desired(spec: DesiredSpec): Promise<DesiredState>;
  dispose(): Promise<void>;
}

const text = async (stream: NodeJS.ReadableStream): Promise<string> => {
  let out = '';
  for await (const chunk of stream) out += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  return out;
};

export function describeTarget(name: string, makeTarget: () => Promise<TargetUnderTest>): void {
  describe(`Target contract (${name})`, () => {
    let t: TargetUnderTest;
    let apps = 0;
    /** Each test its own app, so that tests sharing the target don't see each other's. */
    const newApp = () => `contract${++apps}`;
    const apply = async (spec: DesiredSpec) => {
      const events: AgentEvent[] = [];
      const result = await t.target.apply(await t.desired(spec), (e) => events.push(e));
      return { result, events };
    };

    beforeAll(async () => {
      t = await makeTarget();
    }, 60_000);
    afterAll(async () => {
      await t?.dispose();
    }, 30_000);

    it('applies a desired state, reporting events; observe then says it runs that release', async () => {
      const app = newApp();
      const { result, events } = await apply({ app, env: 'production', release: 'RONE', version: 'v1' });
      expect(result).toEqual({ ok: true, release: 'RONE' });
      expect(events.some((e) => e.type === 'log' && e.message.length > 0)).toBe(true);
      const observed = await t.target.observe(app, 'production');
      expect(observed).toMatchObject({ app, env: 'production', release: 'RONE' });
      expect(observed?.rollout).toBeUndefined();
      expect(observed?.instances.map((i) => [i.component, i.release, i.state])).toEqual([['web', 'RONE', 'healthy']]);

      expect((await apply({ app, env: 'production', release: 'RTWO', version: 'v2' })).result).toEqual({ ok: true, release: 'RTWO' });
      expect((await t.target.observe(app, 'production'))?.release).toBe('RTWO');
    });

    it('reports a failed health check and keeps the previous release', async () => {
      const app = newApp();
      await apply({ app, env: 'production', release: 'RONE', version: 'v1' });
      const { result } = await apply({ app, env: 'production', release: 'RBAD', version: 'v2', failHealth: true });
      expect(result).toMatchObject({ ok: false, release: 'RONE' });
      expect(result.error).toEqual(expect.any(String));
      const observed = await t.target.observe(app, 'production');
      expect(observed?.release).toBe('RONE');
      expect(observed?.instances.map((i) => i.release)).toEqual(['RONE']);
    });

    it('knows nothing of an app never applied, and nothing of one removed', async () => {
      expect(await t.target.observe('never', 'production')).toBeNull();
      const app = newApp();
      await apply({ app, env: 'production', release: 'RONE', version: 'v1' });
      await t.target.remove(app, 'production');
      expect(await t.target.observe(app, 'production')).toBeNull();
      expect((await t.target.observeAll()).filter((o) => o.app === app)).toEqual([]);
      // Removing what is not there is no error.
      await expect(t.target.remove(app, 'production')).resolves.toBeUndefined();
    });

    it('returns the log lines of app/env (`TIMESTAMP source message`), and none for one never applied', async () => {
      const app = newApp();
      await apply({ app, env: 'production', release: 'RONE', version: 'v1' });
      const lines = (await text(await t.target.logs(app, 'production', { follow: false, lines: 100 }))).trimEnd().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ /);
      expect(lines.some((l) => l.includes('RONE'))).toBe(true);
      expect(await text(await t.target.logs('never', 'production', { follow: false, lines: 100 }))).toBe('');
    });

    it('lists every app/env it runs in observeAll', async () => {
      const [one, two] = [newApp(), newApp()];
      await apply({ app: one, env: 'production', release: 'RONE', version: 'v1' });
      await apply({ app: one, env: 'staging', release: 'RSTAGE', version: 'v2' });
      await apply({ app: two, env: 'production', release: 'RTWO', version: 'v1' });
      const all = (await t.target.observeAll()).filter((o) => o.app === one || o.app === two);
      expect(all.map((o) => `${o.app}/${o.env} ${o.release}`).sort()).toEqual(
        [`${one}/production RONE`, `${one}/staging RSTAGE`, `${two}/production RTWO`].sort(),
      );
    });

    // Optional capabilities: a target without them skips these.
    it('snapshots what is live for app/env (when the target can)', async (ctx) => {
      if (!t.target.snapshot) return ctx.skip();
      const app = newApp();
      await apply({ app, env: 'production', release: 'RONE', version: 'v1' });
      const snapshot = await t.target.snapshot(app, 'production');
      expect(snapshot).toMatchObject({ app, env: 'production', release: 'RONE' });
      expect(snapshot.components.map((c) => c.name)).toEqual(['web']);
    });

    it('runs a one-off command in the live release and streams its output and exit (when the target can)', async (ctx) => {
      if (!t.target.exec) return ctx.skip();
      const app = newApp();
      await apply({ app, env: 'production', release: 'RONE', version: 'v1' });
      const events: ExecEvent[] = [];
      for await (const e of await t.target.exec(app, 'production', { command: 'echo hello; exit 4' }, new AbortController().signal)) events.push(e);
      expect(events[0]).toMatchObject({ type: 'started', release: 'RONE', component: 'web' });
      expect(events.flatMap((e) => (e.type === 'output' ? [e.text] : [])).join('')).toBe('hello\n');
      expect(events.at(-1)).toEqual({ type: 'exit', code: 4, signal: null });
    });
  });
}
