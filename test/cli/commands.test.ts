import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildView, DeploymentView, ReleaseChange, ReleaseView } from '../../src/contract/index.js';
import { apiError, dribble, rewind, sse, useFakeApi } from './fake-api.js';
import type { Handler } from './fake-api.js';
import { releaseView } from './views.js';

const S = 1000;
const M = 60 * S;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

const release = (id: string, over: Partial<ReleaseView> = {}): ReleaseView => releaseView(id, ago(M), over);

const deployment = (id: string, over: Partial<DeploymentView> = {}): DeploymentView => ({
  id,
  app: 'myapp',
  env: 'production',
  release: 'RZYXWVUTSR',
  fromRelease: 'RCDEFGHIJK',
  kind: 'rollback',
  state: 'running',
  error: null,
  createdBy: 'ann@laptop',
  createdAt: ago(0),
  finishedAt: null,
  ...over,
});

const build = (over: Partial<BuildView> = {}): BuildView => ({
  id: 'BNEWBUILDX',
  app: 'myapp',
  status: 'running',
  description: 'build 0a1b2c3d4e5f fix',
  components: ['web'],
  sourceSha256: 'abc',
  artifactSha256: null,
  artifacts: {},
  release: null,
  env: 'production',
  error: null,
  deployment: null,
  deployError: null,
  createdBy: 'ann@laptop',
  createdAt: ago(0),
  finishedAt: null,
  ...over,
});

const STEPS = [
  { seq: 1, at: '2019-01-01T00:00:49.000Z', message: 'web: starting 1 instance of BABCDEFGHI' },
  { seq: 2, at: '2019-01-01T00:00:51.250Z', message: 'web: healthy after 1.2s' },
  { seq: 3, at: '2019-01-01T00:00:53.000Z', message: 'switched traffic to RZYXWVUTSR' },
];
const STEP_LINES = [
  '2019-01-01T00:00:49Z web: starting 1 instance of BABCDEFGHI',
  '2019-01-01T00:00:51Z web: healthy after 1.2s',
  '2019-01-01T00:00:53Z switched traffic to RZYXWVUTSR',
];

/** The SSE route of a deployment that ends in `end`. */
const events =
  (end: DeploymentView): Handler =>
  (_req, res) =>
    dribble(res, 'text/event-stream', sse([...STEPS.map((s) => ['step', s] as [string, unknown]), ['end', end]]));

const serve = useFakeApi();

describe('rewind releases (fake API)', () => {
  it('prints the Convox table, newest first, with the active one marked', async () => {
    const { api, env } = await serve({
      'GET /api/apps/myapp/releases': () => [
        release('RCDEFGHIJK', { status: 'active', description: 'env add:FOO', createdAt: ago(61 * S) }),
        release('RBCDEFGHIJ', { description: 'build 0a1b2c3d4e5f my commit message', createdAt: ago(5 * M + 2 * S) }),
      ],
    });
    const r = await rewind(['releases', '-a', 'myapp'], { ...env, REWIND_TOKEN: 's3cret' });
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'ID          STATUS  BUILD       CREATED        DESCRIPTION',
        'RCDEFGHIJK  active  BABCDEFGHI  1 minute ago   env add:FOO',
        'RBCDEFGHIJ          BABCDEFGHI  5 minutes ago  build 0a1b2c3d4e5f my commit message',
        '',
      ].join('\n'),
    });
    const req = api.requests[0];
    expect(req.query.get('env')).toBe('production');
    expect(req.query.get('limit')).toBe('20');
    expect(req.headers.authorization).toBe('Bearer s3cret');
    // The actor is the server's to decide (the token's name), never a header the client picks.
    expect(req.headers['x-rewind-actor']).toBeUndefined();
  });

  it('takes the app from REWIND_APP and the environment from -e; --json prints only JSON', async () => {
    const list = [release('RCDEFGHIJK', { env: 'staging', status: 'active' })];
    const { api, env } = await serve({ 'GET /api/apps/myapp/releases': () => list });
    const r = await rewind(['releases', '-e', 'staging', '--json'], { ...env, REWIND_APP: 'myapp' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(list);
    expect(api.requests[0].query.get('env')).toBe('staging');
  });
});

describe('rewind releases rollback (fake API)', () => {
  const change: ReleaseChange = {
    release: release('RZYXWVUTSR', { kind: 'rollback', description: 'rollback to RBCDEFGHIJ', source: 'RBCDEFGHIJ' }),
    deployment: deployment('DABCDEFGHI'),
    plan: {
      app: 'myapp',
      env: 'production',
      from: 'RCDEFGHIJK',
      source: 'RBCDEFGHIJ',
      description: 'rollback to RBCDEFGHIJ',
      empty: false,
      components: [{ component: 'web', action: 'keep', from: 'BABCDEFGHI', to: 'BABCDEFGHI' }],
      config: [],
    },
  };

  it('streams the rollout and ends with OK, RNEW', async () => {
    const { api, env } = await serve({
      'POST /api/apps/myapp/rollback': () => change,
      'GET /api/deployments/DABCDEFGHI/events': events(deployment('DABCDEFGHI', { state: 'succeeded' })),
    });
    const r = await rewind(['releases', 'rollback', 'RBCDEFGHIJ', '-a', 'myapp'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(['Rolling back to RBCDEFGHIJ...', ...STEP_LINES, 'OK, RZYXWVUTSR', '']);
    expect(r.code).toBe(0);
    expect(api.requests[0].json()).toEqual({ env: 'production', release: 'RBCDEFGHIJ' });
  });

  it('without an id, lets the server choose and names the release it copied', async () => {
    const { api, env } = await serve({
      'POST /api/apps/myapp/rollback': () => change,
      'GET /api/deployments/DABCDEFGHI/events': events(deployment('DABCDEFGHI', { state: 'succeeded' })),
    });
    const r = await rewind(['releases', 'rollback', '-a', 'myapp'], env);
    expect(r.stdout.split('\n')).toEqual(['Rolling back to RBCDEFGHIJ...', ...STEP_LINES, 'OK, RZYXWVUTSR', '']);
    expect(api.requests[0].json()).toEqual({ env: 'production' });
  });

  it('fails with one line and exit 1 when the rollout fails', async () => {
    const { env } = await serve({
      'POST /api/apps/myapp/rollback': () => change,
      'GET /api/deployments/DABCDEFGHI/events': events(
        deployment('DABCDEFGHI', { state: 'rolled-back', error: 'web: health check failed: GET / answered 500' }),
      ),
    });
    const r = await rewind(['releases', 'rollback', 'RBCDEFGHIJ', '-a', 'myapp'], env);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toEqual(['Rolling back to RBCDEFGHIJ...', ...STEP_LINES, '']);
    expect(r.stderr).toBe('error: deployment DABCDEFGHI failed: web: health check failed: GET / answered 500\n');
  });

  it('resumes a dropped event stream without repeating steps', async () => {
    let connections = 0;
    const { env } = await serve({
      'POST /api/apps/myapp/rollback': () => change,
      'GET /api/deployments/DABCDEFGHI': () => deployment('DABCDEFGHI'),
      'GET /api/deployments/DABCDEFGHI/events': (req, res) =>
        ++connections === 1 ? dribble(res, 'text/event-stream', sse([['step', STEPS[0]]])) : events(deployment('DABCDEFGHI', { state: 'succeeded' }))(req, res),
    });
    const r = await rewind(['releases', 'rollback', 'RBCDEFGHIJ', '-a', 'myapp'], env);
    expect(r.stdout.split('\n')).toEqual(['Rolling back to RBCDEFGHIJ...', ...STEP_LINES, 'OK, RZYXWVUTSR', '']);
    expect(connections).toBe(2);
  });

  it('with --json prints {release, deployment, plan} and no steps', async () => {
    const end = deployment('DABCDEFGHI', { state: 'succeeded' });
    const { env } = await serve({
      'POST /api/apps/myapp/rollback': () => change,
      'GET /api/deployments/DABCDEFGHI/events': events(end),
    });
    const r = await rewind(['releases', 'rollback', '-a', 'myapp', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ release: change.release, deployment: end, plan: change.plan });
  });
});

describe('errors (fake API)', () => {
  it('prints an API error as one line, exit 1, nothing on stdout', async () => {
    const message = 'app "nope" does not exist; see "rewind apps" or create it with "rewind apps create nope"';
    const { env } = await serve({ 'GET /api/apps/nope/releases': (_q, res) => apiError(res, 404, 'APP_NOT_FOUND', message) });
    expect(await rewind(['releases', '-a', 'nope'], env)).toEqual({ code: 1, stdout: '', stderr: `error: ${message}\n` });
  });

  it('exits 2 on a conflict, closing the step line first', async () => {
    const { env } = await serve({
      'POST /api/apps/myapp/releases/RBCDEFGHIJ/promote': (_q, res) =>
        apiError(res, 409, 'DEPLOYMENT_IN_PROGRESS', 'deployment DAAAAAAAAA is in progress in myapp/production; wait for it or see "rewind releases -a myapp"'),
    });
    const r = await rewind(['releases', 'promote', 'RBCDEFGHIJ', '-a', 'myapp'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('Promoting RBCDEFGHIJ...\n');
    expect(r.stderr).toBe('error: deployment DAAAAAAAAA is in progress in myapp/production; wait for it or see "rewind releases -a myapp"\n');
  });

  it('says how to start an unreachable server, exit 2', async () => {
    const { api, env } = await serve({});
    await api.close();
    const r = await rewind(['releases', '-a', 'myapp'], env);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `error: cannot reach the Rewind server at ${api.url}: ECONNREFUSED; start it with "npm start" or "rewind server", or set REWIND_HOST\n`,
    });
  });

  it('asks for an app when none is given', async () => {
    const r = await rewind(['releases'], { REWIND_HOST: 'http://127.0.0.1:9' });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: no app given; pass -a APP or set REWIND_APP\n' });
  });

  it('adds the stack with --verbose', async () => {
    const r = await rewind(['env', '-a', 'myapp', '--verbose'], { REWIND_HOST: 'http://127.0.0.1:9' });
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: cannot reach the Rewind server at http:\/\/127.0.0.1:9: ECONNREFUSED/);
    expect(lines.length).toBeGreaterThan(1);
    expect(r.code).toBe(2);
  });

  it('rejects unknown commands and bad options as usage errors', async () => {
    const r = await rewind(['relases']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: unknown command 'relases'/);
    const bad = await rewind(['releases', '-a', 'myapp', '--limit', 'lots']);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'error: --limit must be a positive integer, not "lots"\n' });
  });
});

describe('rewind env (fake API)', () => {
  it('lists KEY=VALUE sorted', async () => {
    const { env } = await serve({ 'GET /api/apps/myapp/env': () => ({ config: { ZED: '1', ALPHA: 'x=y' }, release: 'RCDEFGHIJK' }) });
    expect(await rewind(['env', '-a', 'myapp'], env)).toEqual({ code: 0, stderr: '', stdout: 'ALPHA=x=y\nZED=1\n' });
  });

  it('set makes a release and streams its deployment', async () => {
    const { api, env } = await serve({
      'POST /api/apps/myapp/env': (_q, res) => {
        res.statusCode = 201;
        return {
          release: release('RNEWRELEAS', { kind: 'env', description: 'env add:FOO change:BAR' }),
          deployment: deployment('DABCDEFGHI', { kind: 'config' }),
        };
      },
      'GET /api/deployments/DABCDEFGHI/events': events(deployment('DABCDEFGHI', { state: 'succeeded' })),
    });
    const r = await rewind(['env', 'set', 'FOO=1', 'BAR=a=b', '-a', 'myapp'], env);
    expect(r.stdout.split('\n')).toEqual(['Setting FOO, BAR... OK', 'Release: RNEWRELEAS', 'Promoting RNEWRELEAS...', ...STEP_LINES, 'OK', '']);
    expect(r.code).toBe(0);
    expect(api.requests[0].json()).toEqual({ env: 'production', set: { FOO: '1', BAR: 'a=b' }, unset: [], promote: true });
  });

  it('unset --no-promote only makes the release', async () => {
    const { api, env } = await serve({
      'POST /api/apps/myapp/env': () => ({ release: release('RNEWRELEAS', { kind: 'env' }), deployment: null }),
    });
    const r = await rewind(['env', 'unset', 'FOO', '--no-promote', '-a', 'myapp'], env);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout:
        'Unsetting FOO... OK\nRelease: RNEWRELEAS\nStaged, not running: "rewind env" shows the active config; promote it with "rewind releases promote RNEWRELEAS"\n',
    });
    expect(api.requests[0].json()).toEqual({ env: 'production', set: {}, unset: ['FOO'], promote: false });
  });

  it('refuses a pair without =', async () => {
    const r = await rewind(['env', 'set', 'FOO', '-a', 'myapp'], { REWIND_HOST: 'http://127.0.0.1:9' });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: "FOO" is not KEY=VALUE; e.g. rewind env set FOO=bar\n' });
  });
});

describe('rewind deploy (fake API)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function source() {
    dir = await mkdtemp(join(tmpdir(), 'rewind-cli-test-'));
    await writeFile(join(dir, 'rewind.yml'), 'web:\n  command: node server.js\n');
    await writeFile(join(dir, 'server.js'), 'console.log("hi")\n');
    return dir;
  }

  function routes(final: BuildView): Record<string, Handler> {
    return {
      'POST /api/apps/myapp/builds': (_q, res) => {
        res.statusCode = 201;
        return build();
      },
      'GET /api/apps/myapp/builds/BNEWBUILDX/logs': (_q, res) => dribble(res, 'text/plain', ['installing...\n', 'build', 'ing\ndone']),
      'GET /api/apps/myapp/builds/BNEWBUILDX': () => final,
      'GET /api/apps/myapp/releases/RNEWRELEAS': () => release('RNEWRELEAS'),
      'GET /api/deployments/DABCDEFGHI': () => deployment('DABCDEFGHI', { kind: 'promote', release: 'RNEWRELEAS' }),
      'GET /api/deployments/DABCDEFGHI/events': events(deployment('DABCDEFGHI', { state: 'succeeded', release: 'RNEWRELEAS' })),
    };
  }

  const deployed = (over: Partial<BuildView> = {}) => build({ status: 'succeeded', release: 'RNEWRELEAS', deployment: 'DABCDEFGHI', ...over });

  it('packs, uploads with deploy=true, streams the build logs and the rollout the server started', async () => {
    const { api, env } = await serve(routes(deployed()));
    const r = await rewind(['deploy', await source(), '-a', 'myapp', '-d', 'my change'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'Packaging source... OK',
      'Uploading source... OK',
      'Starting build... OK',
      'installing...',
      'building',
      'done',
      'Build:   BNEWBUILDX',
      'Release: RNEWRELEAS',
      'Promoting RNEWRELEAS...',
      ...STEP_LINES,
      'OK',
      '',
    ]);
    expect(r.code).toBe(0);
    const upload = api.requests[0];
    expect(upload.headers['content-type']).toBe('application/gzip');
    expect(upload.query.get('env')).toBe('production');
    expect(upload.query.get('description')).toBe('my change');
    expect(Number(upload.headers['content-length'])).toBe(upload.body.length);
    expect(gunzipSync(upload.body).toString('latin1')).toContain('node server.js');
    expect(upload.query.get('deploy')).toBe('true');
    expect(api.requests.filter((q) => q.method !== 'GET').map((q) => q.path)).toEqual(['/api/apps/myapp/builds']);
  });

  it('a release the server could not deploy exits 2, says why and how to promote it', async () => {
    const busy = 'deployment DAAAAAAAAA is in progress in myapp/staging; wait for it or see "rewind releases -a myapp"';
    const { env } = await serve(routes(deployed({ env: 'staging', deployment: null, deployError: busy })));
    const r = await rewind(['deploy', await source(), '-a', 'myapp', '-e', 'staging'], env);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n').slice(-3)).toEqual(['Build:   BNEWBUILDX', 'Release: RNEWRELEAS', '']);
    expect(r.stderr).toBe(
      `error: build BNEWBUILDX made release RNEWRELEAS, but it was not deployed: ${busy}; promote it with "rewind releases promote RNEWRELEAS -a myapp -e staging"\n`,
    );
  });

  it('shows a progress bar on a terminal stderr and keeps stdout lines clean', async () => {
    const { env } = await serve(routes(deployed()));
    const r = await rewind(['build', await source(), '-a', 'myapp'], { ...env, NO_COLOR: '1' }, true);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\rUploading source\.\.\. \[-+\] {3}0% {2}0 B \/ .*\r\x1b\[K$/s);
    expect(r.stderr).toContain('] 100%');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['Packaging source... OK', 'Uploading source... OK', 'Starting build... OK']);
  });

  it('a failed build exits 1 after its logs; with --json its last lines go to stderr', async () => {
    const failed = build({ status: 'failed', error: 'web: build command exited with 2' });
    const { env } = await serve(routes(failed));
    const r = await rewind(['deploy', await source(), '-a', 'myapp'], env);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').slice(3)).toEqual(['installing...', 'building', 'done', '']);
    expect(r.stderr).toBe('error: build BNEWBUILDX failed: web: build command exited with 2\n');

    const j = await rewind(['build', dir!, '-a', 'myapp', '--json'], env);
    expect(j).toEqual({
      code: 1,
      stdout: '',
      stderr: 'installing...\nbuilding\ndone\nerror: build BNEWBUILDX failed: web: build command exited with 2\n',
    });
  });

  it('with --json prints {build, release, deployment} only', async () => {
    const { env } = await serve(routes(deployed()));
    const r = await rewind(['deploy', await source(), '-a', 'myapp', '--json'], env);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { build: BuildView; release: ReleaseView; deployment: DeploymentView };
    expect([out.build.id, out.release.id, out.deployment.state]).toEqual(['BNEWBUILDX', 'RNEWRELEAS', 'succeeded']);
  });

  it('refuses a bad upload with the server message', async () => {
    const { env } = await serve({
      'POST /api/apps/myapp/builds': (_q, res) => apiError(res, 422, 'NO_MANIFEST', 'no rewind.yml or Procfile at the root of the source'),
    });
    const r = await rewind(['build', await source(), '-a', 'myapp'], env);
    expect(r).toEqual({
      code: 1,
      stdout: 'Packaging source... OK\nUploading source... OK\nStarting build...\n',
      stderr: 'error: no rewind.yml or Procfile at the root of the source\n',
    });
  });
});

describe('other commands (fake API)', () => {
  it('apps create / delete', async () => {
    const { api, env } = await serve({
      'POST /api/apps': (q, res) => {
        res.statusCode = 201;
        return { name: q.json<{ name: string }>().name, createdAt: ago(0), environments: [] };
      },
      'DELETE /api/apps/myapp': () => undefined,
    });
    expect(await rewind(['apps', 'create', 'myapp'], env)).toEqual({ code: 0, stderr: '', stdout: 'Creating myapp... OK\n' });
    expect(await rewind(['apps', 'delete', 'myapp'], env)).toEqual({ code: 0, stderr: '', stdout: 'Deleting myapp... OK\n' });
    expect(api.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /api/apps', 'DELETE /api/apps/myapp']);
  });

  it('colours OK on a terminal only without NO_COLOR', async () => {
    const { env } = await serve({ 'DELETE /api/apps/myapp': () => undefined });
    expect((await rewind(['apps', 'delete', 'myapp'], env, true)).stdout).toBe('Deleting myapp... \x1b[32mOK\x1b[39m\n');
    expect((await rewind(['apps', 'delete', 'myapp'], { ...env, NO_COLOR: '1' }, true)).stdout).toBe('Deleting myapp... OK\n');
  });

  it('logs streams text and passes -f and --lines', async () => {
    const { api, env } = await serve({
      'GET /api/apps/myapp/logs': (_q, res) => dribble(res, 'text/plain', ['web.1 | hello\nweb.1 | wor', 'ld\n']),
    });
    expect(await rewind(['logs', '-a', 'myapp', '-f', '--lines', '5'], env)).toEqual({
      code: 0,
      stderr: '',
      stdout: 'web.1 | hello\nweb.1 | world\n',
    });
    expect(Object.fromEntries(api.requests[0].query)).toEqual({ env: 'production', follow: 'true', lines: '5' });
  });
});

describe('rewind --version', () => {
  it('prints the package version, from the program itself (which loads no command for it) and in-process', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const root = join(import.meta.dirname, '..', '..');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V'])
      expect(execFileSync(process.execPath, [join(root, 'bin', 'rewind.js'), flag], { encoding: 'utf8' })).toBe(`${version}\n`);
    expect(await rewind(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
