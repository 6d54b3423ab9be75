/**
 * The Swarm target (src/targets/swarm/swarm-target.ts) beyond the Target contract: service names
 * and labels, warm standby and rollback to it, the current release kept in Swarm across target
 * instances, version-fenced updates, refusals, and routing through a real agent's edge. Runs
 * against the lab daemon at REWIND_TEST_DOCKER_HOST (skipped when unset, an error in CI); every
 * service it makes carries this run's label and is removed in afterAll.
 */
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../../src/agent/agent-main.js';
import { freePort } from '../../src/agent/proc-info.js';
import type { AgentEvent, DesiredState } from '../../src/protocol/agent-protocol.js';
import { DockerEngine } from '../../src/targets/swarm/docker-engine.js';
import type { Service, ServiceSpec } from '../../src/targets/swarm/docker-types.js';
import { isoOf, parseServiceLine } from '../../src/targets/swarm/swarm-logs.js';
import { isPinnedImage, MAX_SERVICE_NAME, refusalOf, serviceName } from '../../src/targets/swarm/swarm-names.js';
import type { SwarmTarget } from '../../src/targets/swarm/swarm-target.js';
import { artifactRoot, removeTempDirs, stopAgent, tempDir } from '../agent/helpers.js';
import { dockerHost, type LabImages, labImages, labTarget, labTitle, newRun, removeRun, requireLabInCi, type SwarmSpec, swarmDesired } from './swarm-lab.js';

/** SIGKILLs a container through the lab daemon's API, as a crash would. */
function killContainer(id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: dockerHost!.replace(/^unix:\/\//, ''), path: `/v1.41/containers/${id}/kill?signal=KILL`, method: 'POST' }, (res) => {
      res.resume();
      res.statusCode === 204 ? resolve() : reject(new Error(`kill ${id} answered ${res.statusCode}`));
    });
    req.on('error', reject);
    req.end();
  });
}

const text = async (stream: NodeJS.ReadableStream): Promise<string> => {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
};

describe('Swarm service names and pinned images (no daemon needed)', () => {
  it('names a service rw-<app>-<env>-<release>-<component>, lower-case, within 63 characters', () => {
    expect(serviceName('shop', 'production', 'R7K2M', 'web')).toBe('rw-shop-production-r7k2m-web');
    const long = serviceName('a-very-long-application-name', 'production-europe-west', 'R01HZXYZABCDEFG', 'worker');
    expect(long.length).toBeLessThanOrEqual(MAX_SERVICE_NAME);
    expect(long).toMatch(/^rw-a-very-long-application-name-production-europe-we-[0-9a-f]{10}$/);
    expect(long).toHaveLength(MAX_SERVICE_NAME);
    expect(serviceName('a-very-long-application-name', 'production-europe-west', 'R01HZXYZABCDEFG', 'worker')).toBe(long);
    expect(serviceName('a-very-long-application-name', 'production-europe-west', 'R01HZXYZABCDEFH', 'worker')).not.toBe(long);
    // A character Docker does not take is replaced, and the hash keeps the name apart from the one with a '-'.
    expect(serviceName('shop', 'prod_1', 'R1', 'web')).toMatch(/^rw-shop-prod-1-r1-web-[0-9a-f]{10}$/);
    expect(serviceName('shop', 'prod_1', 'R1', 'web')).not.toBe(serviceName('shop', 'prod-1', 'R1', 'web'));
  });

  it('reads Docker’s service log lines (timestamps and details) as TIMESTAMP component.task message', () => {
    const line = '2026-12-08T00:00:18.777684855Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world';
    expect(parseServiceLine(line)).toEqual({ at: '2026-12-08T00:00:18.777Z', task: 't1', message: 'hello world' });
    expect(parseServiceLine('2026-12-08T00:00:18Z plain')).toEqual({ at: '2026-12-08T00:00:18.000Z', task: null, message: 'plain' });
    expect(parseServiceLine('not a time')).toBeNull();
    expect(isoOf('2026-12-08T01:00:00.5+01:00')).toBe('2026-12-08T00:00:00.500Z');
  });

  it('refuses, as one line, what a Swarm cannot run', () => {
    const ok = swarmDesired({ app: 'shop', env: 'production', release: 'RONE', image: `sha256:${'a'.repeat(64)}` });
    expect(refusalOf(ok)).toBeNull();
    expect(refusalOf({ ...ok, components: [] })).toBe('release RONE has no components; a Swarm release runs at least one image component');
    expect(refusalOf({ ...ok, config: { PORT: 'http' } })).toBe('config PORT=http is not a port number (1-65535)');
    expect(refusalOf({ ...ok, components: [{ ...ok.components[0], scale: -1 }] })).toBe('component web: scale must be a whole number >= 0, not -1');
  });

  it('takes images pinned by digest or id only', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(isPinnedImage(digest)).toBe(true);
    expect(isPinnedImage(`127.0.0.1:5000/rewind-test/web@${digest}`)).toBe(true);
    expect(isPinnedImage('rewind-test/web:1.11')).toBe(false);
    expect(isPinnedImage(`rewind-test/web@sha256:${'a'.repeat(63)}`)).toBe(false);
  });
});

requireLabInCi('Swarm target against the lab daemon');

describe.skipIf(!dockerHost)(labTitle('Swarm target'), () => {
  let engine: DockerEngine;
  let images: LabImages;
  let target: SwarmTarget;
  const { run, labels } = newRun();
  const others: SwarmTarget[] = [];
  const WARM = { keepMs: 60_000, count: 1 };

  beforeAll(async () => {
    engine = new DockerEngine(dockerHost!);
    images = await labImages(engine);
    target = labTarget(labels);
  });

  afterAll(async () => {
    try {
      await removeRun(run);
    } finally {
      await Promise.all([target, ...others].map((t) => t?.close()));
      await engine?.close();
    }
  }, 30_000);

  const apply = async (spec: SwarmSpec, on: SwarmTarget = target) => {
    const events: AgentEvent[] = [];
    const started = Date.now();
    const result = await on.apply(swarmDesired(spec), (e) => events.push(e));
    return { result, events, ms: Date.now() - started, said: events.flatMap((e) => (e.type === 'log' ? [e.message] : [])) };
  };
  const servicesOf = async (app: string): Promise<Service[]> => engine.listServices({ 'rewind.test.run': run, 'rewind.app': app });
  const byRelease = async (app: string) =>
    Object.fromEntries((await servicesOf(app)).map((s) => [s.Spec.Labels!['rewind.release'], s.ID] as const).sort(([a], [b]) => (a < b ? -1 : 1)));
  const body = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })).text()).trim();

  it('makes one service per release and component, named and labelled, with the spec of decision 0009', async () => {
    const { result } = await apply({ app: 'names', env: 'production', release: 'RONE', image: images.v1, scale: 2 });
    expect(result).toEqual({ ok: true, release: 'RONE' });
    const [service] = await servicesOf('names');
    const spec: ServiceSpec = service.Spec;
    expect(spec.Name).toBe('rw-names-production-rone-web');
    expect(spec.Labels).toMatchObject({
      ...labels,
      'rewind.app': 'names',
      'rewind.env': 'production',
      'rewind.release': 'RONE',
      'rewind.component': 'web',
      'rewind.build': expect.stringMatching(/^B[0-9A-F]{10}$/),
      'rewind.deployment': 'DRONE',
      'rewind.proxy-port': '18080',
      'rewind.current': expect.stringMatching(/^\d+$/),
    });
    expect(spec.TaskTemplate.ContainerSpec).toMatchObject({ Image: images.v1, Env: ['GREETING=hello', 'PORT=80'] });
    expect(spec.TaskTemplate.RestartPolicy).toMatchObject({ Condition: 'on-failure' });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr', Ports: [{ TargetPort: 80, PublishMode: 'host', Protocol: 'tcp' }] });
    const observed = await target.observe('names', 'production');
    expect(observed?.instances.map((i) => [i.release, i.state])).toEqual([
      ['RONE', 'healthy'],
      ['RONE', 'healthy'],
    ]);
    for (const i of observed!.instances) expect(await body(i.port!)).toBe('rewind-test web 1.11');
  });

  it.skipIf(!process.env.REWIND_TEST_REGISTRY)('runs an image pinned by the lab registry’s digest (REWIND_TEST_REGISTRY)', async () => {
    const registry = process.env.REWIND_TEST_REGISTRY!;
    const pushed = await engine.imageInspect(`${registry}/rewind-test/web:1.12`);
    const digest = pushed.repoDigests.find((d) => d.startsWith(`${registry}/`))!;
    expect(digest).toMatch(/@sha256:[0-9a-f]{64}$/);
    const { result } = await apply({ app: 'digest', env: 'production', release: 'RONE', image: digest });
    expect(result).toEqual({ ok: true, release: 'RONE' });
    const [instance] = (await target.observe('digest', 'production'))!.instances;
    expect(await body(instance.port!)).toBe('rewind-test web 1.12');
  });

  it('refuses a component without an image, or with a tag, and changes nothing', async () => {
    await apply({ app: 'refuse', env: 'production', release: 'RONE', image: images.v1 });
    const before = (await servicesOf('refuse')).map((s) => `${s.ID}@${s.Version.Index}`);
    const noImage: DesiredState = { ...swarmDesired({ app: 'refuse', env: 'production', release: 'RTWO', image: images.v2 }) };
    const { image: _, ...sourceComponent } = noImage.components[0];
    const refused = await target.apply({ ...noImage, components: [sourceComponent] }, () => {});
    expect(refused).toEqual({
      ok: false,
      release: 'RONE',
      error: expect.stringMatching(/^component web has no image: a Swarm target runs image components only/),
    });
    const tagged = await apply({ app: 'refuse', env: 'production', release: 'RTWO', image: 'rewind-test/web:1.12' });
    expect(tagged.result).toMatchObject({ ok: false, release: 'RONE', error: expect.stringMatching(/image rewind-test\/web:1\.12 is not pinned/) });
    const rescaled = await apply({ app: 'refuse', env: 'production', release: 'RONE', image: images.v1, scale: 2 });
    expect(rescaled.result).toMatchObject({
      ok: false,
      release: 'RONE',
      error: expect.stringMatching(/^release RONE already runs on this Swarm with other .*; deploy the change as a new release$/),
    });
    const again = await apply({ app: 'refuse', env: 'production', release: 'RONE', image: images.v1 });
    expect(again.result).toEqual({ ok: true, release: 'RONE' });
    expect(again.said).toContain('RONE already runs with this spec: nothing to start');
    expect((await servicesOf('refuse')).map((s) => `${s.ID}@${s.Version.Index}`)).toEqual(before);
  });

  it('rolls back to a warm release without starting anything: the same service and task answer again', async () => {
    const env = 'production';
    const one = await apply({ app: 'warm', env, release: 'RONE', image: images.v1, standby: WARM });
    await apply({ app: 'warm', env, release: 'RTWO', image: images.v2, standby: WARM });
    const ids = await byRelease('warm');
    expect(Object.keys(ids)).toEqual(['RONE', 'RTWO']);
    const standby = await target.observe('warm', env);
    expect(standby?.release).toBe('RTWO');
    const warmTask = standby!.instances.find((i) => i.release === 'RONE')!;
    expect(warmTask).toMatchObject({ state: 'standby', standbyUntil: expect.any(String) });

    const back = await apply({ app: 'warm', env, release: 'RONE', image: images.v1, standby: WARM });
    expect(back.result).toEqual({ ok: true, release: 'RONE' });
    expect(back.said).toContain('Nothing to start');
    expect(back.said.some((m) => m.startsWith('starting '))).toBe(false);
    expect(await byRelease('warm')).toEqual(ids);
    const after = await target.observe('warm', env);
    expect(after?.instances.find((i) => i.release === 'RONE')).toMatchObject({ id: warmTask.id, state: 'healthy', port: warmTask.port });
    expect(after?.instances.find((i) => i.release === 'RTWO')?.state).toBe('standby');
    expect(await body(warmTask.port!)).toBe('rewind-test web 1.11');
    console.log(`swarm: first apply ${one.ms} ms, warm rollback ${back.ms} ms`);
  });

  it('reuses services by what they run: a rollback copying an older release takes its warm service, an unchanged one keeps running', async () => {
    const at = (release: string, image: string) => apply({ app: 'copy', env: 'production', release, image, standby: WARM });
    await at('RONE', images.v1);
    await at('RTWO', images.v2);
    const before = await byRelease('copy');
    const warmTask = (await target.observe('copy', 'production'))!.instances.find((i) => i.release === 'RONE')!;
    // What the engine's rollback sends: a new release with the older one's image and config.
    const copy = await at('RTHREE', images.v1);
    expect(copy.result).toEqual({ ok: true, release: 'RTHREE' });
    expect(copy.said).toContain('Reusing rw-copy-production-rone-web for web (of RONE, warm standby)');
    expect(copy.said).toContain('Nothing to start');
    expect(await byRelease('copy')).toEqual({ RTHREE: before.RONE, RTWO: before.RTWO });
    const [service] = (await servicesOf('copy')).filter((s) => s.ID === before.RONE);
    expect(service.Spec.Labels).toMatchObject({ 'rewind.release': 'RTHREE', 'rewind.deployment': 'DRTHREE' });
    const observed = await target.observe('copy', 'production');
    expect(observed?.instances.map((i) => [i.id, i.release, i.state])).toEqual([
      [warmTask.id, 'RTHREE', 'healthy'],
      [expect.any(String), 'RTWO', 'standby'],
    ]);
    // A release whose component runs what the live one runs: kept, no restart.
    const same = await at('RFOUR', images.v1);
    expect(same.said).toContain('Reusing rw-copy-production-rone-web for web (of RTHREE, live and unchanged: no restart)');
    expect(await byRelease('copy')).toEqual({ RFOUR: before.RONE, RTWO: before.RTWO });
    expect((await target.observe('copy', 'production'))?.instances[0]).toMatchObject({ id: warmTask.id, release: 'RFOUR', state: 'healthy' });
  });

  it('removes standby at once with count 0, when its time is up, and beyond count', async () => {
    // Three apps side by side, to keep the suite short.
    const none = { keepMs: 0, count: 0 };
    const brief = { keepMs: 1500, count: 1 };
    const atOnce = async () => {
      await apply({ app: 'nostandby', env: 'production', release: 'RONE', image: images.v1, standby: none });
      await apply({ app: 'nostandby', env: 'production', release: 'RTWO', image: images.v2, standby: none });
      expect(Object.keys(await byRelease('nostandby'))).toEqual(['RTWO']);
    };
    const beyondCount = async () => {
      await apply({ app: 'count', env: 'production', release: 'RONE', image: images.v1, standby: WARM });
      await apply({ app: 'count', env: 'production', release: 'RTWO', image: images.v2, standby: WARM });
      await apply({ app: 'count', env: 'production', release: 'RTHREE', image: images.v1, standby: WARM });
      expect(Object.keys(await byRelease('count'))).toEqual(['RTHREE', 'RTWO']);
    };
    const expiring = async () => {
      await apply({ app: 'expire', env: 'production', release: 'RONE', image: images.v1, standby: brief });
      await apply({ app: 'expire', env: 'production', release: 'RTWO', image: images.v2, standby: brief });
      expect(Object.keys(await byRelease('expire'))).toEqual(['RONE', 'RTWO']);
      const deadline = Date.now() + 8000;
      while (Object.keys(await byRelease('expire')).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(Object.keys(await byRelease('expire'))).toEqual(['RTWO']);
    };
    await Promise.all([atOnce(), beyondCount(), expiring()]);
  });

  it('keeps the current release in Swarm: a new target instance on the same daemon knows it and reuses its standby', async () => {
    await apply({ app: 'restart', env: 'production', release: 'RONE', image: images.v1, standby: WARM });
    await apply({ app: 'restart', env: 'production', release: 'RTWO', image: images.v2, standby: WARM });
    const ids = await byRelease('restart');
    const fresh = labTarget(labels);
    others.push(fresh);
    const seen = await fresh.observe('restart', 'production');
    expect(seen?.release).toBe('RTWO');
    expect(seen?.instances.map((i) => [i.release, i.state])).toEqual([
      ['RTWO', 'healthy'],
      ['RONE', 'standby'],
    ]);
    expect((await fresh.observeAll()).find((o) => o.app === 'restart')?.release).toBe('RTWO');
    const back = await apply({ app: 'restart', env: 'production', release: 'RONE', image: images.v1, standby: WARM }, fresh);
    expect(back.result).toEqual({ ok: true, release: 'RONE' });
    expect(back.said).toContain('Nothing to start');
    expect(await byRelease('restart')).toEqual(ids);
    expect((await target.observe('restart', 'production'))?.release).toBe('RONE');
  });

  it('refuses an update from a stale version as one line, switches nothing and removes the new services', async () => {
    await apply({ app: 'stale', env: 'production', release: 'RONE', image: images.v1 });
    /** Someone changes the service between the target's read and its update: a real concurrent change. */
    class RacedEngine extends DockerEngine {
      raced = false;
      override async updateService(id: string, version: number, spec: ServiceSpec): Promise<{ warnings: string[] }> {
        if (!this.raced && spec.Labels?.['rewind.release'] === 'RTWO') {
          this.raced = true;
          const now = await this.inspectService(id);
          await super.updateService(id, now.Version.Index, { ...now.Spec, Labels: { ...now.Spec.Labels, 'rewind.test.touched': '1' } });
        }
        return super.updateService(id, version, spec);
      }
    }
    const raced = labTarget(labels, { docker: new RacedEngine(dockerHost!) });
    others.push(raced);
    const { result } = await apply({ app: 'stale', env: 'production', release: 'RTWO', image: images.v2 }, raced);
    expect(result).toEqual({
      ok: false,
      release: 'RONE',
      error: expect.stringMatching(
        /^service rw-stale-production-rtwo-web changed while Rewind was switching to RTWO \(its spec is no longer version \d+\); .*retry$/,
      ),
    });
    expect((await target.observe('stale', 'production'))?.release).toBe('RONE');
    expect(Object.keys(await byRelease('stale'))).toEqual(['RONE']);
  });

  it('fails a release whose tasks cannot start, and one whose health check fails, keeping the previous one', async () => {
    await apply({ app: 'fail', env: 'production', release: 'RONE', image: images.v1 });
    const missing = await apply({ app: 'fail', env: 'production', release: 'RGONE', image: `sha256:${'0'.repeat(64)}` });
    expect(missing.result).toMatchObject({
      ok: false,
      release: 'RONE',
      error: expect.stringMatching(/task of rw-fail-production-rgone-web (rejected|failed)/),
    });
    const health = { path: '/health', timeoutMs: 1500, intervalMs: 100 };
    const broken = await apply({ app: 'fail', env: 'production', release: 'RBAD', image: images.broken, health });
    expect(broken.result).toMatchObject({
      ok: false,
      release: 'RONE',
      error: expect.stringMatching(/^web\.\w+ \(127\.0\.0\.1:\d+\) was not healthy within 1\.5s: GET \/health answered 404$/),
    });
    expect(broken.said.at(-1)).toBe('RONE is still serving');
    expect(Object.keys(await byRelease('fail'))).toEqual(['RONE']);
    console.log(`swarm: missing image failed in ${missing.ms} ms, failed health in ${broken.ms} ms`);
  });

  it('says so when the service name is taken by a service it does not manage', async () => {
    const name = 'rw-taken-production-rone-web';
    await engine.createService({ Name: name, Labels: labels, TaskTemplate: { ContainerSpec: { Image: images.v1 } }, Mode: { Replicated: { Replicas: 0 } } });
    const { result } = await apply({ app: 'taken', env: 'production', release: 'RONE', image: images.v1 });
    expect(result).toEqual({
      ok: false,
      release: null,
      error: `a service named ${name} already exists that this target does not manage (other labels); remove it or rename it, then deploy again`,
    });
  });

  it('refuses a second apply of an app/env while one runs', async () => {
    const first = apply({ app: 'busy', env: 'production', release: 'RONE', image: images.v1 });
    await expect(target.apply(swarmDesired({ app: 'busy', env: 'production', release: 'RTWO', image: images.v2 }), () => {})).rejects.toMatchObject({
      code: 'DEPLOYMENT_IN_PROGRESS',
    });
    expect((await first).result.ok).toBe(true);
  });

  describe('routing through a real agent as the edge', () => {
    let agent: Awaited<ReturnType<typeof runAgent>>;
    const dir = join(tempDir(), 'agent');

    beforeAll(async () => {
      agent = await runAgent({ port: 0, log: false, artifactRoot: artifactRoot(), stopGraceMs: 2000, dataDir: dir });
    });
    afterAll(async () => {
      try {
        await stopAgent(agent, dir);
      } finally {
        removeTempDirs();
      }
    });
    /** Each test's targets see only their own services (a target with edges routes every app/env it sees). */
    const scoped = (name: string) => ({ ...labels, 'rewind.test.scope': name });
    const edgeOf = async (app: string) => {
      const res = await fetch(`${agent.url}/v1/edge/${app}/production`, { headers: { authorization: `Bearer ${agent.token}` } });
      return res.json() as Promise<{ port: number; fence: number; drainMs: number; upstreams: { host: string; port: number }[] }>;
    };

    it('routes the edge port to the current release, back to the warm one on rollback, and away on remove', async () => {
      const port = await freePort();
      const unreachable = { url: 'http://127.0.0.1:1', token: 'x' };
      const edged = labTarget(scoped('edge'), { edges: [{ url: agent.url, token: agent.token }, unreachable] });
      others.push(edged);
      const spec = (release: string, image: string): SwarmSpec => ({ app: 'edge', env: 'production', release, image, standby: WARM, config: {} });
      const withPort = async (s: SwarmSpec) => {
        const events: string[] = [];
        const result = await edged.apply({ ...swarmDesired(s), proxyPort: port }, (e) => e.type === 'log' && events.push(e.message));
        return { result, events };
      };
      const one = await withPort(spec('RONE', images.v1));
      expect(one.result).toEqual({ ok: true, release: 'RONE' });
      expect(one.events.some((m) => /^Edge http:\/\/127\.0\.0\.1:1 did not take the route of RONE: cannot be reached/.test(m))).toBe(true);
      expect(one.events.some((m) => m.startsWith(`Edges route port ${port} to RONE (127.0.0.1:`) && m.includes('on 1 of 2 edges'))).toBe(true);
      expect(await body(port)).toBe('rewind-test web 1.11');
      await withPort(spec('RTWO', images.v2));
      expect(await body(port)).toBe('rewind-test web 1.12');
      const started = Date.now();
      expect((await withPort(spec('RONE', images.v1))).result.ok).toBe(true);
      expect(await body(port)).toBe('rewind-test web 1.11');
      console.log(`swarm: warm rollback through the edge ${Date.now() - started} ms`);
      // The current release again: nothing starts, the edges get its route again (with a higher fence).
      const again = await withPort(spec('RONE', images.v1));
      expect(again.result).toEqual({ ok: true, release: 'RONE' });
      expect(again.events.some((m) => m.startsWith(`Edges route port ${port} to RONE`))).toBe(true);
      expect(await body(port)).toBe('rewind-test web 1.11');
      await edged.remove('edge', 'production');
      await expect(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    });

    it('removes a replaced release that is not kept warm only once the edges drained it', async () => {
      const port = await freePort();
      const draining = labTarget(scoped('drain'), { edges: [{ url: agent.url, token: agent.token }], watchMs: 0 });
      others.push(draining);
      const at = (release: string, image: string) =>
        draining.apply({ ...swarmDesired({ app: 'drain', env: 'production', release, image }), proxyPort: port, drainTimeoutMs: 1000 }, () => {});
      await at('RONE', images.v1);
      expect((await at('RTWO', images.v2)).ok).toBe(true);
      expect(await body(port)).toBe('rewind-test web 1.12');
      expect(await edgeOf('drain')).toMatchObject({ port, drainMs: 1000, upstreams: [{ host: '127.0.0.1' }] });
      const observed = await draining.observe('drain', 'production');
      expect(observed?.instances.map((i) => [i.release, i.state])).toEqual([
        ['RTWO', 'healthy'],
        ['RONE', 'stopping'],
      ]);
      const deadline = Date.now() + 6000;
      while (Object.keys(await byRelease('drain')).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(Object.keys(await byRelease('drain'))).toEqual(['RTWO']);
    });

    it('routes around a task Swarm restarted: the watch sends its new address', async () => {
      const port = await freePort();
      const watched = labTarget(scoped('watch'), { edges: [{ url: agent.url, token: agent.token }], watchMs: 200 });
      others.push(watched);
      const desired = { ...swarmDesired({ app: 'watch', env: 'production', release: 'RONE', image: images.v1, scale: 2 }), proxyPort: port };
      expect((await watched.apply(desired, () => {})).ok).toBe(true);
      const before = await edgeOf('watch');
      expect(before.upstreams).toHaveLength(2);
      const [victim] = (await watched.observe('watch', 'production'))!.instances;
      const [service] = await servicesOf('watch');
      const task = (await engine.listTasks({ service: service.ID })).find((t) => t.ID === victim.id)!;
      await killContainer(task.Status.ContainerStatus!.ContainerID!);
      // Swarm starts a new task (restart on failure) on another host port; the watch routes to it.
      const deadline = Date.now() + 20_000;
      let after = before;
      while (Date.now() < deadline) {
        after = await edgeOf('watch');
        if (after.fence > before.fence && after.upstreams.length === 2 && !after.upstreams.some((u) => u.port === victim.port)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(after.fence).toBeGreaterThan(before.fence);
      expect(after.upstreams.map((u) => u.port)).not.toContain(victim.port);
      expect(after.upstreams).toHaveLength(2);
      expect(await body(port)).toBe('rewind-test web 1.11');
      const lines = (await text(await watched.logs('watch', 'production', { follow: false, lines: 50 }))).split('\n');
      expect(lines.some((l) => / swarm The tasks of RONE changed: edges route port \d+ to /.test(l))).toBe(true);
    });

    it('switches nothing when no edge takes the route', async () => {
      const plain = labTarget(scoped('noedge'));
      const nowhere = labTarget(scoped('noedge'), { edges: [{ url: 'http://127.0.0.1:1', token: 'x' }], watchMs: 0 });
      others.push(plain, nowhere);
      await apply({ app: 'noedge', env: 'production', release: 'RONE', image: images.v1 }, plain);
      const { result } = await apply({ app: 'noedge', env: 'production', release: 'RTWO', image: images.v2 }, nowhere);
      expect(result).toMatchObject({
        ok: false,
        release: 'RONE',
        error: expect.stringMatching(/^no edge took the route of RTWO \(http:\/\/127\.0\.0\.1:1 cannot be reached/),
      });
      expect(Object.keys(await byRelease('noedge'))).toEqual(['RONE']);
    });
  });
});
