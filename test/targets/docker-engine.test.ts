/**
 * The Docker Engine API client (src/targets/swarm/docker-engine.ts). The parsing and error parts
 * need no daemon; the rest runs against the real lab daemon at REWIND_TEST_DOCKER_HOST
 * (`node scripts/lab/docker-lab.mjs start` prints it; .ci/run exports it, and in CI a missing one
 * fails). REWIND_TEST_REGISTRY (the lab's registry) makes the update pin its image by registry digest.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine, filtersParam, labelTerms, registryAuthHeader } from '../../src/targets/swarm/docker-engine.js';
import { DockerEngineError, EngineConflictError, EngineNotFoundError, EngineUnavailableError, engineError } from '../../src/targets/swarm/docker-errors.js';
import { originOf, parseDockerHost } from '../../src/targets/swarm/docker-host.js';
import { demuxLogs } from '../../src/targets/swarm/docker-logs.js';
import type { ServiceSpec, Task } from '../../src/targets/swarm/docker-types.js';

const dockerHost = process.env.REWIND_TEST_DOCKER_HOST;
const registry = process.env.REWIND_TEST_REGISTRY;

describe('docker host URLs (parsing only: no TLS daemon runs here, so TLS is not exercised against one)', () => {
  it('reads unix:// and tcp:// hosts, with Docker’s default ports', () => {
    expect(parseDockerHost('unix:///run/rewind-lab/docker.sock')).toEqual({
      kind: 'unix',
      url: 'unix:///run/rewind-lab/docker.sock',
      socketPath: '/run/rewind-lab/docker.sock',
    });
    expect(parseDockerHost('tcp://10.0.0.5:2375')).toEqual({ kind: 'tcp', url: 'tcp://10.0.0.5:2375', host: '10.0.0.5', port: 2375 });
    expect(parseDockerHost('tcp://docker.internal')).toMatchObject({ host: 'docker.internal', port: 2375 });
    const tls = { ca: '/etc/rewind/ca.pem', cert: '/etc/rewind/cert.pem', key: '/etc/rewind/key.pem' };
    expect(parseDockerHost('tcp://docker.internal', tls)).toEqual({ kind: 'tcp', url: 'tcp://docker.internal', host: 'docker.internal', port: 2376, tls });
    const v6 = parseDockerHost('tcp://[::1]:2375');
    expect(v6).toMatchObject({ host: '::1', port: 2375 });
    expect(originOf(v6)).toBe('http://[::1]:2375');
    expect(originOf(parseDockerHost('tcp://h:1', tls))).toBe('https://h:1');
    expect(originOf(parseDockerHost('unix:///x.sock'))).toBe('http://localhost');
  });

  it('refuses bad hosts with one line saying what to write', () => {
    const bad: [string, RegExp][] = [
      ['docker.sock', /^docker host "docker.sock" is not a URL; write unix:\/\/\/PATH\/TO\/docker.sock or tcp:\/\/HOST:PORT$/],
      ['unix://run/docker.sock', /needs an absolute socket path/],
      ['http://localhost:2375', /has the scheme http:\/\/, which Rewind does not speak/],
      ['ssh://me@host', /has the scheme ssh:\/\//],
      ['tcp://host:2375/v1.41', /may hold only a host and a port/],
      ['tcp://user:pw@host:2375', /may hold only a host and a port/],
      ['tcp://host:99999', /is not a valid address/],
    ];
    for (const [url, message] of bad) expect(() => parseDockerHost(url), url).toThrow(message);
    expect(() => parseDockerHost('unix:///run/docker.sock', { ca: 'a', cert: 'b', key: 'c' })).toThrow(/TLS files apply only to tcp:\/\//);
    expect(() => parseDockerHost('tcp://h:2376', { ca: 'a', cert: 'b' })).toThrow(/has TLS files without key; give all three/);
  });

  it('names a TLS file it cannot read', () => {
    const tls = { ca: '/nonexistent/ca.pem', cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' };
    expect(() => new DockerEngine('tcp://127.0.0.1:2376', { tls })).toThrow(
      'docker host tcp://127.0.0.1:2376: cannot read the TLS ca file /nonexistent/ca.pem (ENOENT)',
    );
  });
});

describe('Engine answers become typed one-line errors (no daemon needed)', () => {
  it('maps a stale version, other conflicts, a missing object and the rest', () => {
    const stale = engineError('POST /services/abc/update', 500, '{"message":"rpc error: code = Unknown desc = update out of sequence"}\n');
    expect(stale).toBeInstanceOf(EngineConflictError);
    expect((stale as EngineConflictError).reason).toBe('stale-version');
    expect(stale.message).toBe('docker: POST /services/abc/update answered 500: rpc error: code = Unknown desc = update out of sequence');
    const taken = engineError('POST /services/create', 409, '{"message":"name conflicts with an existing object"}');
    expect(taken).toBeInstanceOf(EngineConflictError);
    expect((taken as EngineConflictError).reason).toBe('conflict');
    expect(engineError('GET /services/x', 404, '{"message":"service x not found"}')).toBeInstanceOf(EngineNotFoundError);
    const other = engineError('POST /services/create', 400, 'line one\n  line two\n');
    expect(other).toBeInstanceOf(DockerEngineError);
    expect(other).not.toBeInstanceOf(EngineConflictError);
    expect(other.message).toBe('docker: POST /services/create answered 400: line one line two');
    expect(engineError('GET /info', 500, '').message).toBe('docker: GET /info answered 500: (no message)');
    expect(engineError('GET /info', 500, 'x'.repeat(2000)).message).toHaveLength('docker: GET /info answered 500: '.length + 501);
  });

  it('says which host did not answer', async () => {
    const engine = new DockerEngine('unix:///nonexistent/rewind-test/docker.sock');
    await expect(engine.ping()).rejects.toThrow(new EngineUnavailableError('GET /_ping', 'unix:///nonexistent/rewind-test/docker.sock', 'ENOENT'));
    await expect(engine.ping()).rejects.toThrow(
      'docker: GET /_ping could not reach unix:///nonexistent/rewind-test/docker.sock (ENOENT); is the Docker daemon running there?',
    );
    await engine.close();
  });

  it('encodes filters as JSON and registry auth as Docker decodes it', () => {
    expect(filtersParam({ label: labelTerms({ 'rewind.app': 'a b&c', 'rewind.test': true }), service: [] })).toBe(
      '{"label":["rewind.app=a b&c","rewind.test"]}',
    );
    const header = registryAuthHeader({ username: 'u', password: '??>>' })['x-registry-auth'];
    expect(header).toMatch(/^[A-Za-z0-9_=-]+$/);
    expect(JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString())).toEqual({ username: 'u', password: '??>>' });
    expect(registryAuthHeader(undefined)).toEqual({});
  });
});

describe('service logs: Docker’s multiplexed stream (no daemon needed)', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(payload.length, 4);
    return Buffer.concat([head, payload]);
  };

  it('splits frames into lines per stream, joining a line cut across frames', () => {
    const buf = Buffer.concat([frame(1, 'one\ntw'), frame(1, 'o\n'), frame(2, 'oops\r\n'), frame(1, 'last')]);
    expect(demuxLogs(buf)).toEqual([
      { stream: 'stdout', line: 'one' },
      { stream: 'stdout', line: 'two' },
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'last' },
    ]);
  });

  it('reads a TTY service’s plain text, an empty answer and a truncated frame', () => {
    expect(demuxLogs(Buffer.from('plain\ntext\n'))).toEqual([
      { stream: 'stdout', line: 'plain' },
      { stream: 'stdout', line: 'text' },
    ]);
    expect(demuxLogs(Buffer.alloc(0))).toEqual([]);
    expect(demuxLogs(frame(2, 'cut short\n').subarray(0, 12))).toEqual([{ stream: 'stderr', line: 'cut ' }]);
  });
});

if (!dockerHost && process.env.CI === 'true') {
  describe('Docker Engine API against the lab daemon', () => {
    it('runs in CI (REWIND_TEST_DOCKER_HOST is unset)', () => {
      throw new Error('CI=true but REWIND_TEST_DOCKER_HOST is unset: .ci/run starts the lab (node scripts/lab/docker-lab.mjs start) and exports it');
    });
  });
}

const liveTitle = dockerHost
  ? `Docker Engine API against the lab daemon at ${dockerHost}`
  : 'Docker Engine API against a real daemon: skipped, REWIND_TEST_DOCKER_HOST is unset (start one: node scripts/lab/docker-lab.mjs start)';

describe.skipIf(!dockerHost)(liveTitle, () => {
  let engine: DockerEngine;
  const run = randomUUID().slice(0, 8);
  const name = `rw-test-${run}-web`;
  const labels = { 'rewind.test': '1', 'rewind.test.run': run };
  const created: string[] = [];
  let serviceId = '';
  let versionBeforeUpdate = 0;

  beforeAll(() => {
    engine = new DockerEngine(dockerHost!);
  });

  afterAll(async () => {
    if (!engine) return;
    const mine = await engine.listServices({ 'rewind.test.run': run }).catch(() => []);
    for (const id of new Set([...created, ...mine.map((s) => s.ID)])) {
      await engine.removeService(id).catch((err) => {
        if (!(err instanceof EngineNotFoundError)) throw err;
      });
    }
    await engine.close();
  });

  const spec = (image: string): ServiceSpec => ({
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: { Image: image, Labels: labels, StopGracePeriod: 2e9 },
      RestartPolicy: { Condition: 'any', Delay: 1e9 },
    },
    Mode: { Replicated: { Replicas: 1 } },
    // dnsrr: no virtual IP (none is needed without the routing mesh); host mode with no published port: Docker picks one per task.
    EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'host' }] },
  });

  /** Waits for a running task of the service with this image and its host port. */
  async function runningTask(image: string): Promise<{ task: Task; port: number }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const tasks = await engine.listTasks({ service: serviceId, desiredState: 'running' });
      const task = tasks.find((t) => t.Status.State === 'running' && t.Spec.ContainerSpec.Image === image);
      const port = task?.Status.PortStatus?.Ports?.find((p) => p.TargetPort === 80)?.PublishedPort;
      if (task && port) return { task, port };
      const failed = tasks.find((t) => t.Status.Err);
      if (Date.now() > deadline) throw new Error(`no running task of ${name} with ${image} after 30 s${failed ? `: ${failed.Status.Err}` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function body(port: number): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    return (await res.text()).trim();
  }

  it('pings and reads the version (API 1.41 or later)', async () => {
    expect(await engine.ping()).toBe(true);
    const v = await engine.version();
    expect(v.Os).toBe('linux');
    const [major, minor] = v.ApiVersion.split('.').map(Number);
    expect(major * 1000 + minor).toBeGreaterThanOrEqual(1041);
  });

  it('is an active swarm manager', async () => {
    const info = await engine.info();
    expect(info.Swarm.LocalNodeState).toBe('active');
    expect(info.Swarm.ControlAvailable).toBe(true);
    expect(info.Swarm.NodeID).toMatch(/^[a-z0-9]{25}$/);
  });

  it('inspects the test images: 1.11 and 1.12 are different images', async () => {
    const v11 = await engine.imageInspect('rewind-test/web:1.11');
    const v12 = await engine.imageInspect('rewind-test/web:1.12');
    expect(v11.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(v12.id).not.toBe(v11.id);
    expect(v11.tags).toContain('rewind-test/web:1.11');
    expect(v11.labels['rewind.test.version']).toBe('1.11');
    expect((await engine.imageInspect(v11.id)).id).toBe(v11.id);
    await expect(engine.imageInspect('rewind-test/web:no-such-tag')).rejects.toThrow(EngineNotFoundError);
  });

  it('creates a service pinned by image id with a host-mode port; its task answers 1.11 on loopback', async () => {
    const { id } = await engine.imageInspect('rewind-test/web:1.11');
    serviceId = (await engine.createService(spec(id))).id;
    created.push(serviceId);
    const { task, port } = await runningTask(id);
    expect(await body(port)).toBe('rewind-test web 1.11');
    const node = (await engine.listNodes()).find((n) => n.ID === task.NodeID);
    expect(node).toMatchObject({ Status: { State: 'ready', Addr: '127.0.0.1' }, Spec: { Availability: 'active' } });
    const listed = await engine.listServices({ 'rewind.test.run': run });
    expect(listed.map((s) => s.ID)).toEqual([serviceId]);
    expect(listed[0].ServiceStatus).toMatchObject({ DesiredTasks: 1 });
  });

  it('reads the service’s logs', async () => {
    const deadline = Date.now() + 10_000;
    let lines = await engine.serviceLogs(serviceId);
    while (!lines.some((l) => l.line.includes('rewind-test web 1.11 serving')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      lines = await engine.serviceLogs(serviceId);
    }
    expect(lines).toContainEqual({ stream: 'stdout', line: 'rewind-test web 1.11 serving /www on port 80' });
  });

  it('refuses a second service of the same name as a conflict, and a bad spec as a 400', async () => {
    const { id } = await engine.imageInspect('rewind-test/web:1.11');
    const taken = await engine.createService(spec(id)).catch((err: unknown) => err);
    expect(taken).toBeInstanceOf(EngineConflictError);
    expect((taken as EngineConflictError).reason).toBe('conflict');
    const bad = await engine.createService({ ...spec(''), Name: `${name}-bad` }).catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(DockerEngineError);
    expect((bad as Error).message).toMatch(/^docker: POST \/services\/create answered 400: \S/);
  });

  it('updates the image to 1.12 with the version it read; the new task answers 1.12', async () => {
    const ref = registry ? `${registry}/rewind-test/web:1.12` : 'rewind-test/web:1.12';
    const image = await engine.imageInspect(ref);
    // With the lab's registry, pin by registry digest (what a cluster pulls); without, by image id.
    const pinned = registry ? image.repoDigests.find((d) => d.startsWith(`${registry}/`))! : image.id;
    expect(pinned).toBeTruthy();
    const current = await engine.inspectService(serviceId);
    versionBeforeUpdate = current.Version.Index;
    const next = {
      ...current.Spec,
      TaskTemplate: { ...current.Spec.TaskTemplate, ContainerSpec: { ...current.Spec.TaskTemplate.ContainerSpec, Image: pinned } },
    };
    await engine.updateService(serviceId, versionBeforeUpdate, next);
    expect((await engine.inspectService(serviceId)).Version.Index).toBeGreaterThan(versionBeforeUpdate);
    const { port } = await runningTask(pinned);
    expect(await body(port)).toBe('rewind-test web 1.12');
  });

  it('refuses an update computed from a stale version with EngineConflictError', async () => {
    const current = await engine.inspectService(serviceId);
    const err = await engine.updateService(serviceId, versionBeforeUpdate, current.Spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineConflictError);
    expect((err as EngineConflictError).reason).toBe('stale-version');
    expect((err as Error).message).toMatch(/^docker: POST \/services\/[a-z0-9]+\/update answered \d{3}: .*update out of sequence/);
    expect((await engine.inspectService(serviceId)).Version.Index).toBe(current.Version.Index);
  });

  it('removes the service: inspecting it is EngineNotFoundError, and it is no longer listed', async () => {
    await engine.removeService(serviceId);
    await expect(engine.inspectService(serviceId)).rejects.toThrow(EngineNotFoundError);
    await expect(engine.inspectService(name)).rejects.toThrow(/^docker: GET \/services\/rw-test-.* answered 404: /);
    expect(await engine.listServices({ 'rewind.test.run': run })).toEqual([]);
  });
});
