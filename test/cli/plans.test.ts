import { describe, expect, it } from 'vitest';
import type { BuildView, DeploymentView, EnvironmentView, PlanView, ReleaseChange, ReleaseView } from '../../src/contract/index.js';
import { diffLines, parseComponentBuilds, planLines } from '../../src/cli/plan.js';
import { envsTable } from '../../src/cli/envs.js';
import { componentBuildsTable } from '../../src/cli/builds.js';
import { bodies, dribble, rewind, sse, useFakeApi } from './fake-api.js';
import type { Handler } from './fake-api.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();

const plan = (over: Partial<PlanView> = {}): PlanView => ({
  app: 'shop',
  env: 'production',
  from: 'RBBBBBBBBB',
  source: 'RAAAAAAAAA',
  description: 'rollback to RAAAAAAAAA',
  empty: false,
  components: [
    { component: 'api', action: 'change', from: 'BNEWNEWNEW', to: 'BOLDOLDOLD' },
    { component: 'assets', action: 'add', from: null, to: 'BASSETSAAA' },
    { component: 'web', action: 'keep', from: 'BWEBWEBWEB', to: 'BWEBWEBWEB' },
    { component: 'worker', action: 'remove', from: 'BWORKERAAA', to: null },
  ],
  config: [
    { key: 'API_TOKEN', action: 'change', from: '********', to: '********' },
    { key: 'GREETING', action: 'add', from: null, to: 'hi' },
    { key: 'OLD', action: 'remove', from: 'x', to: null },
  ],
  ...over,
});

const PLAN_BODY = [
  '  api        change  BNEWNEWNEW → BOLDOLDOLD',
  '  assets     add     BASSETSAAA',
  '  web        keep    BWEBWEBWEB',
  '  worker     remove  BWORKERAAA',
  '  config:',
  '    API_TOKEN  change  ******** → ********',
  '    GREETING   add     hi',
  '    OLD        remove  x',
];

describe('plan format', () => {
  it('lists per component keep | change | add | remove, then the config keys (values masked by the API)', () => {
    expect(planLines(plan())).toEqual(['Plan: rollback to RAAAAAAAAA in shop/production (active: RBBBBBBBBB)', ...PLAN_BODY]);
  });

  it('says when the environment will run nothing, and when nothing changes', () => {
    const empty = plan({
      description: 'rollback to empty (before RBBBBBBBBB)',
      source: null,
      empty: true,
      components: [{ component: 'web', action: 'remove', from: 'BWEBWEBWEB', to: null }],
      config: [],
    });
    expect(planLines(empty)).toEqual([
      'Plan: rollback to empty (before RBBBBBBBBB) in shop/production (active: RBBBBBBBBB)',
      '  web        remove  BWEBWEBWEB',
      '  production will run nothing',
    ]);
    const same = plan({ components: [{ component: 'web', action: 'keep', from: 'BWEBWEBWEB', to: 'BWEBWEBWEB' }], config: [] });
    expect(planLines(same).slice(1)).toEqual(['  web        keep    BWEBWEBWEB', '  nothing changes']);
  });

  it('rewind diff uses the same lines under the two releases', () => {
    expect(diffLines(plan({ from: 'R1AAAAAAAA', source: 'R2AAAAAAAA', description: 'diff R1AAAAAAAA R2AAAAAAAA' }))).toEqual([
      'Diff R1AAAAAAAA → R2AAAAAAAA',
      ...PLAN_BODY,
    ]);
  });

  it('parses --component NAME=BUILD and refuses anything else', () => {
    expect(parseComponentBuilds(['web=BAAAAAAAAA', 'worker=BBBBBBBBBB'])).toEqual({ web: 'BAAAAAAAAA', worker: 'BBBBBBBBBB' });
    expect(() => parseComponentBuilds(['web'])).toThrow('--component "web" is not NAME=BUILD');
    expect(() => parseComponentBuilds(['=BAAAAAAAAA'])).toThrow('is not NAME=BUILD');
    expect(() => parseComponentBuilds(['web=BAAAAAAAAA', 'web=BBBBBBBBBB'])).toThrow('--component web is given twice');
  });

  it('envs: NAME RELEASE HEALTH URL in order, other components’ URLs under URL', () => {
    const env = (over: Partial<EnvironmentView>): EnvironmentView => ({
      app: 'shop',
      name: 'production',
      position: 0,
      activeRelease: null,
      proxyPort: 1,
      url: 'http://127.0.0.1:4001',
      health: 'empty',
      components: {},
      target: 'local',
      createdAt: at(0),
      ...over,
    });
    const lines = envsTable([
      env({
        name: 'production',
        position: 1,
        activeRelease: 'RAAAAAAAAA',
        health: 'healthy',
        url: 'http://127.0.0.1:4002',
        components: { assets: 'http://127.0.0.1:4004', api: 'http://127.0.0.1:4003' },
      }),
      env({ name: 'test', position: 0 }),
    ]);
    expect(lines).toEqual([
      'NAME        RELEASE     HEALTH   URL',
      'test                    empty    http://127.0.0.1:4001',
      'production  RAAAAAAAAA  healthy  http://127.0.0.1:4002',
      '                                 api: http://127.0.0.1:4003',
      '                                 assets: http://127.0.0.1:4004',
    ]);
  });

  it('builds --component: ID STATUS CREATED DESCRIPTION', () => {
    const b = (id: string, status: BuildView['status'], ms: number, description: string) => ({ id, status, createdAt: at(ms), description }) as BuildView;
    expect(componentBuildsTable([b('BBBBBBBBBB', 'failed', 60_000, 'web v3'), b('BAAAAAAAAA', 'succeeded', 3_600_000, 'web v1')], NOW)).toEqual([
      'ID          STATUS     CREATED       DESCRIPTION',
      'BBBBBBBBBB  failed     1 minute ago  web v3',
      'BAAAAAAAAA  succeeded  1 hour ago    web v1',
    ]);
  });
});

// ── commands against a fake API ───────────────────────────────────────────────────────────

const release = (id: string, over: Partial<ReleaseView> = {}): ReleaseView => ({
  id,
  app: 'shop',
  env: 'production',
  build: 'BWEBWEBWEB',
  builds: { web: 'BWEBWEBWEB' },
  kind: 'rollback',
  description: 'rollback to RAAAAAAAAA',
  status: '',
  config: {},
  manifest: null,
  source: 'RAAAAAAAAA',
  createdBy: 'ann@laptop',
  createdAt: at(0),
  ...over,
});
const deployment = (state: DeploymentView['state']): DeploymentView => ({
  id: 'DAAAAAAAAA',
  app: 'shop',
  env: 'production',
  release: 'RNEWNEWNEW',
  fromRelease: 'RBBBBBBBBB',
  kind: 'rollback',
  state,
  error: null,
  createdBy: 'ann@laptop',
  createdAt: at(0),
  finishedAt: null,
});
const STEP = { seq: 1, at: '2026-01-01T12:00:00.000Z', message: 'switched traffic to RNEWNEWNEW' };
const events: Handler = (_req, res) =>
  dribble(
    res,
    'text/event-stream',
    sse([
      ['step', STEP],
      ['end', deployment('succeeded')],
    ]),
  );

/** A planned route: a dry run answers the plan, else the release, deployment and plan. */
const planned =
  (p: PlanView, id = 'RNEWNEWNEW'): Handler =>
  (req) => {
    const body = req.json<{ dryRun?: boolean }>();
    if (body.dryRun) return { plan: p };
    return { release: release(id, { description: p.description }), deployment: deployment('running'), plan: p } satisfies ReleaseChange;
  };

const serve = useFakeApi({ NO_COLOR: '1' });

const PLAN_LINES = ['Plan: rollback to RAAAAAAAAA in shop/production (active: RBBBBBBBBB)', ...PLAN_BODY];

describe('plans before action (fake API)', () => {
  it('--dry-run prints the plan, makes one dry-run request and exits 0', async () => {
    const { api, env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()) });
    const r = await rewind(['releases', 'rollback', 'RAAAAAAAAA', '-a', 'shop', '--dry-run'], env);
    expect(r).toEqual({ code: 0, stderr: '', stdout: [...PLAN_LINES, ''].join('\n') });
    expect(bodies(api.requests, '/api/apps/shop/rollback')).toEqual([{ env: 'production', release: 'RAAAAAAAAA', dryRun: true }]);
  });

  it('--dry-run --json prints {plan}', async () => {
    const { env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()) });
    const r = await rewind(['releases', 'rollback', '-a', 'shop', '--dry-run', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ plan: plan() });
  });

  it('in a terminal, shows the plan and asks; no (the default) cancels and changes nothing', async () => {
    for (const answer of ['\n', 'n\n', 'nope\n', '']) {
      const { api, env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()) });
      const r = await rewind(['releases', 'rollback', 'RAAAAAAAAA', '-a', 'shop'], env, true, answer);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe([...PLAN_LINES, 'Proceed? [y/N] '].join('\n'));
      expect(r.stderr).toBe('error: cancelled; nothing changed\n');
      expect(bodies(api.requests, '/api/apps/shop/rollback')).toEqual([{ env: 'production', release: 'RAAAAAAAAA', dryRun: true }]);
      await api.close();
    }
  });

  it('in a terminal, yes carries the plan out and streams the rollout', async () => {
    const { api, env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()), 'GET /api/deployments/DAAAAAAAAA/events': events });
    const r = await rewind(['releases', 'rollback', '-a', 'shop'], env, true, 'y\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      ...PLAN_LINES,
      'Proceed? [y/N] Rolling back to RAAAAAAAAA...',
      '2026-01-01T12:00:00Z switched traffic to RNEWNEWNEW',
      'OK, RNEWNEWNEW',
      '',
    ]);
    expect(bodies(api.requests, '/api/apps/shop/rollback')).toEqual([{ env: 'production', dryRun: true }, { env: 'production' }]);
  });

  it('--yes in a terminal does not ask', async () => {
    const { api, env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()), 'GET /api/deployments/DAAAAAAAAA/events': events });
    const r = await rewind(['releases', 'rollback', 'RAAAAAAAAA', '-a', 'shop', '--yes'], env, true, 'n\n');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('Proceed?');
    expect(r.stdout.split('\n')[0]).toBe('Rolling back to RAAAAAAAAA...');
    expect(bodies(api.requests, '/api/apps/shop/rollback')).toEqual([{ env: 'production', release: 'RAAAAAAAAA' }]);
  });

  it('a non-interactive run proceeds without asking', async () => {
    const { api, env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()), 'GET /api/deployments/DAAAAAAAAA/events': events });
    // stdout is a terminal but stdin is not (piped): nobody can answer.
    const r = await rewind(['releases', 'rollback', '-a', 'shop'], env, true);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual(['Rolling back to RAAAAAAAAA...', '2026-01-01T12:00:00Z switched traffic to RNEWNEWNEW', 'OK, RNEWNEWNEW', '']);
    expect(bodies(api.requests, '/api/apps/shop/rollback')).toEqual([{ env: 'production' }]);
  });

  it('with --json in a terminal, the plan and the question go to stderr and stdout is only JSON', async () => {
    const { env } = await serve({ 'POST /api/apps/shop/rollback': planned(plan()), 'GET /api/deployments/DAAAAAAAAA/events': events });
    const r = await rewind(['releases', 'rollback', '-a', 'shop', '--json'], env, true, 'yes\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe([...PLAN_LINES, 'Proceed? [y/N] '].join('\n'));
    expect(JSON.parse(r.stdout)).toMatchObject({ release: { id: 'RNEWNEWNEW' }, deployment: { state: 'succeeded' }, plan: plan() });
  });

  it('warns when the environment changed between the plan shown and the action', async () => {
    let calls = 0;
    const later = plan({ from: 'RCCCCCCCCC' });
    const { env } = await serve({
      'POST /api/apps/shop/rollback': (req, res) => planned(++calls === 1 ? plan() : later)(req, res),
      'GET /api/deployments/DAAAAAAAAA/events': events,
    });
    const r = await rewind(['releases', 'rollback', '-a', 'shop'], env, true, 'y\n');
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      'warning: shop/production changed after the plan was shown; this is what is being done:',
      'Plan: rollback to RAAAAAAAAA in shop/production (active: RCCCCCCCCC)',
    ]);
  });

  it('--component moves just those components, in one request', async () => {
    const p = plan({ description: 'rollback web to BOLDWEBAAA, worker to BOLDWRKAAA', source: null });
    const { api, env } = await serve({ 'POST /api/apps/shop/rollback': planned(p), 'GET /api/deployments/DAAAAAAAAA/events': events });
    const r = await rewind(['releases', 'rollback', '-a', 'shop', '--component', 'web=BOLDWEBAAA', '--component', 'worker=BOLDWRKAAA'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('Rolling back web to BOLDWEBAAA, worker to BOLDWRKAAA...');
    expect(bodies(api.requests, '/api/apps/shop/rollback')).toEqual([{ env: 'production', components: { web: 'BOLDWEBAAA', worker: 'BOLDWRKAAA' } }]);
  });

  it('a malformed --component is a usage error before any request', async () => {
    const { api, env } = await serve({});
    const r = await rewind(['releases', 'rollback', '-a', 'shop', '--component', 'web'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: --component "web" is not NAME=BUILD/);
    expect(api.requests).toHaveLength(0);
  });

  it('releases revert RID: Reverting RID..., OK, RNEW; --dry-run only plans', async () => {
    const p = plan({ description: 'revert RREVERTAAA', source: 'RREVERTAAA' });
    const { api, env } = await serve({ 'POST /api/apps/shop/releases/RREVERTAAA/revert': planned(p), 'GET /api/deployments/DAAAAAAAAA/events': events });
    const dry = await rewind(['releases', 'revert', 'RREVERTAAA', '-a', 'shop', '-e', 'test', '--dry-run'], env);
    expect(dry.stdout.split('\n')[0]).toBe('Plan: revert RREVERTAAA in shop/production (active: RBBBBBBBBB)');
    const r = await rewind(['releases', 'revert', 'RREVERTAAA', '-a', 'shop', '-e', 'test'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual(['Reverting RREVERTAAA...', '2026-01-01T12:00:00Z switched traffic to RNEWNEWNEW', 'OK, RNEWNEWNEW', '']);
    expect(bodies(api.requests, '/api/apps/shop/releases/RREVERTAAA/revert')).toEqual([{ env: 'test', dryRun: true }, { env: 'test' }]);
  });

  it('promote --from --to [--components]: Promoting RID from test to production..., OK, RNEW', async () => {
    const p = plan({ description: 'promote RTESTAAAAA from test (web, api)', source: 'RTESTAAAAA' });
    const { api, env } = await serve({ 'POST /api/apps/shop/promote': planned(p), 'GET /api/deployments/DAAAAAAAAA/events': events });
    const r = await rewind(['promote', '-a', 'shop', '--from', 'test', '--to', 'production', '--components', 'web, api'], env);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'Promoting RTESTAAAAA from test to production...',
      '2026-01-01T12:00:00Z switched traffic to RNEWNEWNEW',
      'OK, RNEWNEWNEW',
      '',
    ]);
    expect(bodies(api.requests, '/api/apps/shop/promote')).toEqual([{ from: 'test', to: 'production', components: ['web', 'api'] }]);
    // --to defaults to -e.
    await rewind(['promote', '-a', 'shop', '--from', 'test', '-e', 'staging', '--dry-run'], env);
    expect(bodies(api.requests, '/api/apps/shop/promote')[1]).toEqual({ from: 'test', to: 'staging', dryRun: true });
  });

  it('diff R1 R2 prints the plan format; --json the PlanView', async () => {
    const p = plan({ from: 'R1AAAAAAAA', source: 'R2AAAAAAAA', description: 'diff R1AAAAAAAA R2AAAAAAAA' });
    const { api, env } = await serve({ 'GET /api/apps/shop/diff': () => p });
    const r = await rewind(['diff', 'R1AAAAAAAA', 'R2AAAAAAAA', '-a', 'shop'], env);
    expect(r).toEqual({ code: 0, stderr: '', stdout: ['Diff R1AAAAAAAA → R2AAAAAAAA', ...PLAN_BODY, ''].join('\n') });
    expect(Object.fromEntries(api.requests[0].query)).toEqual({ from: 'R1AAAAAAAA', to: 'R2AAAAAAAA' });
    const j = await rewind(['diff', 'R1AAAAAAAA', 'R2AAAAAAAA', '-a', 'shop', '--json'], env);
    expect(JSON.parse(j.stdout)).toEqual(p);
  });
});

describe('rewind envs (fake API)', () => {
  it('creates after an environment, deletes with --force, lists in order', async () => {
    const test: EnvironmentView = {
      app: 'shop',
      name: 'test',
      position: 0,
      activeRelease: null,
      proxyPort: 4001,
      url: 'http://127.0.0.1:4001',
      health: 'empty',
      components: {},
      target: 'local',
      createdAt: at(0),
    };
    const { api, env } = await serve({
      'POST /api/apps/shop/envs': (_req, res) => {
        res.statusCode = 201;
        return test;
      },
      'DELETE /api/apps/shop/envs/test': (_req, res) => void (res.statusCode = 204),
      'GET /api/apps/shop/envs': () => [test],
    });
    const c = await rewind(['envs', 'create', 'test', '-a', 'shop', '--after', 'staging'], env);
    expect(c).toEqual({ code: 0, stderr: '', stdout: 'Creating test... OK\nURL: http://127.0.0.1:4001\n' });
    expect(api.requests[0].json()).toEqual({ name: 'test', after: 'staging' });
    const d = await rewind(['envs', 'delete', 'test', '-a', 'shop', '--force'], env);
    expect(d).toEqual({ code: 0, stderr: '', stdout: 'Deleting test... OK\n' });
    expect(api.requests[1].query.get('force')).toBe('true');
    const l = await rewind(['envs', '-a', 'shop'], env);
    expect(l.stdout).toBe('NAME  RELEASE  HEALTH  URL\ntest           empty   http://127.0.0.1:4001\n');
  });
});
