import { describe, expect, it } from 'vitest';
import type { PipelineRunView, PlanView, RunRollbackPlanView } from '../../src/contract/index.js';
import { runRollbackLines } from '../../src/cli/pipeline-format.js';
import { apiError, bodies, rewind, useFakeApi } from './fake-api.js';
import type { Handler } from './fake-api.js';

// Issue 10, items 1 and 2, at the CLI: the prompt shows the plan of a dry run and applies it with
// that plan's basis; a STALE_PLAN refusal prints one error line and the new plan, and exits 2.

const BASIS = [{ env: 'production', release: 'RBBBBBBBBB', config: 'RBBBBBBBBB' }];
const NEW_BASIS = [{ env: 'production', release: 'RCCCCCCCCC', config: 'RCCCCCCCCC' }];
const plan = (over: Partial<PlanView> = {}): PlanView => ({
  app: 'pay',
  env: 'production',
  from: 'RBBBBBBBBB',
  source: 'RAAAAAAAAA',
  description: 'rollback to RAAAAAAAAA',
  empty: false,
  components: [{ component: 'web', action: 'keep', from: 'BWEBWEBWEB', to: 'BWEBWEBWEB' }],
  config: [],
  basis: BASIS,
  ...over,
});
const fresh = plan({
  from: 'RCCCCCCCCC',
  config: [
    { key: 'FEATURE_FLAG', action: 'remove', from: 'on', to: null },
    { key: 'PAYMENT_WEBHOOK_SECRET', action: 'remove', from: '********', to: null },
  ],
  basis: NEW_BASIS,
});
const MESSAGE =
  'the plan is out of date: production\'s active release is now RCCCCCCCCC ("env add:FEATURE_FLAG,PAYMENT_WEBHOOK_SECRET" by admin) (was RBBBBBBBBB); config changed: FEATURE_FLAG added, PAYMENT_WEBHOOK_SECRET added; nothing was changed. Review the new plan and confirm it again';

/** A dry run answers `plan`; an apply answers 409 STALE_PLAN carrying `newPlan`. */
const staleAfterDryRun =
  (first: unknown, newPlan: unknown): Handler =>
  (req, res) => {
    const body = req.json<{ dryRun?: boolean }>();
    if (body.dryRun) return { plan: first };
    const e = apiError(res, 409, 'STALE_PLAN', MESSAGE);
    return { error: { ...e.error, details: { plan: newPlan } } };
  };

const serve = useFakeApi({ NO_COLOR: '1' });

describe('the CLI applies the plan it showed, or nothing', () => {
  it('releases rollback: the prompt shows the dry run, applies with its basis; STALE_PLAN prints the error and the new plan, exit 2', async () => {
    const { api, env } = await serve({ 'POST /api/apps/pay/rollback': staleAfterDryRun(plan(), fresh) });
    const r = await rewind(['releases', 'rollback', 'RAAAAAAAAA', '-a', 'pay'], env, true, 'y\n');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      [
        'Plan: rollback to RAAAAAAAAA in pay/production (active: RBBBBBBBBB)',
        '  web        keep    BWEBWEBWEB',
        '  nothing changes',
        'Proceed? [y/N] Rolling back to RAAAAAAAAA...',
        '',
      ].join('\n'),
    );
    expect(r.stderr.split('\n')).toEqual([
      `error: ${MESSAGE}`,
      'The new plan (run the command again to confirm it):',
      'Plan: rollback to RAAAAAAAAA in pay/production (active: RCCCCCCCCC)',
      '  web        keep    BWEBWEBWEB',
      '  config:',
      '    FEATURE_FLAG            remove  on',
      '    PAYMENT_WEBHOOK_SECRET  remove  ********',
      '',
    ]);
    expect(bodies(api.requests, '/api/apps/pay/rollback')).toEqual([
      { env: 'production', release: 'RAAAAAAAAA', dryRun: true },
      { env: 'production', release: 'RAAAAAAAAA', basis: BASIS },
    ]);
    // No deployment was followed: nothing was started.
    expect(api.requests.some((q) => q.path.startsWith('/api/deployments/'))).toBe(false);
  });

  it('revert, promote, templates upgrade and rollback send the basis of the plan shown', async () => {
    const cases: Array<{ args: string[]; path: string }> = [
      { args: ['releases', 'revert', 'RAAAAAAAAA', '-a', 'pay'], path: '/api/apps/pay/releases/RAAAAAAAAA/revert' },
      { args: ['promote', '--from', 'test', '-a', 'pay'], path: '/api/apps/pay/promote' },
      { args: ['templates', 'upgrade', '-a', 'pay'], path: '/api/apps/pay/upgrade' },
      { args: ['templates', 'rollback', '-a', 'pay'], path: '/api/apps/pay/upgrades/rollback' },
    ];
    for (const c of cases) {
      const { api, env } = await serve({ [`POST ${c.path}`]: staleAfterDryRun(plan(), fresh) });
      const r = await rewind(c.args, env, true, 'y\n');
      expect(r.code, c.args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`error: ${MESSAGE}`);
      const sent = bodies(api.requests, c.path) as Array<{ dryRun?: boolean; basis?: unknown }>;
      expect(sent.map((b) => [b.dryRun ?? false, b.basis ?? null])).toEqual([
        [true, null],
        [false, BASIS],
      ]);
      await api.close();
    }
  });

  it('--yes and scripts send no basis (no plan was shown), as before', async () => {
    const { api, env } = await serve({ 'POST /api/apps/pay/rollback': (_req, res) => apiError(res, 400, 'INVALID_INPUT', 'stop here') });
    await rewind(['releases', 'rollback', 'RAAAAAAAAA', '-a', 'pay', '--yes'], env, true, '');
    expect(bodies(api.requests, '/api/apps/pay/rollback')).toEqual([{ env: 'production', release: 'RAAAAAAAAA' }]);
  });
});

const runPlan = (over: Partial<RunRollbackPlanView> = {}): RunRollbackPlanView => ({
  run: 'PRUNRUNRUN',
  app: 'pay',
  status: 'succeeded',
  warnings: ['production was changed after this run: release RHANDHANDH ("rollback to RBBBBBBBBB") by admin; rolling the run back undoes that too'],
  tasks: [
    {
      index: 1,
      name: 'deploy',
      env: 'production',
      action: 'restore',
      backup: 'RBACKUPAAA',
      why: null,
      plan: plan({
        from: 'RHANDHANDH',
        source: 'RBACKUPAAA',
        description: 'restore backup RBACKUPAAA (pipeline run PRUNRUNRUN, task 2)',
        components: [{ component: 'web', action: 'change', from: 'BNEWNEWNEW', to: 'BOLDOLDOLD' }],
        config: [{ key: 'GREETING', action: 'add', from: null, to: 'hi' }],
      }),
    },
    { index: 0, name: 'promote', env: 'test', action: 'not rolled back', backup: null, why: 'promotions take no backup', plan: null },
  ],
  basis: BASIS,
  ...over,
});
const RUN_PLAN_LINES = [
  'Plan: roll back run PRUNRUNRUN (succeeded) of pay',
  '  warning: production was changed after this run: release RHANDHANDH ("rollback to RBBBBBBBBB") by admin; rolling the run back undoes that too',
  '  task 2 deploy: restore backup RBACKUPAAA in production (active: RHANDHANDH)',
  '    web        change  BNEWNEWNEW → BOLDOLDOLD',
  '    config:',
  '      GREETING  add     hi',
  '  task 1 promote: not rolled back (promotions take no backup)',
];

describe('pipelines rollback RUN shows its plan', () => {
  it('prints per task the plan from what is live now, and the warnings', () => {
    expect(runRollbackLines(runPlan())).toEqual(RUN_PLAN_LINES);
  });

  it('--dry-run prints the plan and changes nothing; --json gives {plan}', async () => {
    const { api, env } = await serve({ 'POST /api/pipelines/runs/PRUNRUNRUN/rollback': () => ({ plan: runPlan() }) });
    const r = await rewind(['pipelines', 'rollback', 'PRUNRUNRUN', '--dry-run'], env);
    expect(r).toEqual({ code: 0, stderr: '', stdout: [...RUN_PLAN_LINES, ''].join('\n') });
    expect(bodies(api.requests, '/api/pipelines/runs/PRUNRUNRUN/rollback')).toEqual([{ dryRun: true }]);
    const j = await rewind(['pipelines', 'rollback', 'PRUNRUNRUN', '--dry-run', '--json'], env);
    expect(JSON.parse(j.stdout)).toEqual({ plan: runPlan() });
  });

  it('in a terminal: the plan, Proceed?, no cancels; yes applies with the basis; STALE_PLAN prints the new plan, exit 2', async () => {
    const later = runPlan({ basis: NEW_BASIS, warnings: [] });
    const { api, env } = await serve({ 'POST /api/pipelines/runs/PRUNRUNRUN/rollback': staleAfterDryRun(runPlan(), later) });
    const no = await rewind(['pipelines', 'rollback', 'PRUNRUNRUN'], env, true, 'n\n');
    expect(no.code).toBe(1);
    expect(no.stdout).toBe([...RUN_PLAN_LINES, 'Proceed? [y/N] '].join('\n'));
    expect(no.stderr).toBe('error: cancelled; nothing changed\n');

    const yes = await rewind(['pipelines', 'rollback', 'PRUNRUNRUN', '--reason', 'bad'], env, true, 'y\n');
    expect(yes.code).toBe(2);
    expect(yes.stderr.split('\n').slice(0, 3)).toEqual([
      `error: ${MESSAGE}`,
      'The new plan (run the command again to confirm it):',
      'Plan: roll back run PRUNRUNRUN (succeeded) of pay',
    ]);
    expect(bodies(api.requests, '/api/pipelines/runs/PRUNRUNRUN/rollback')).toEqual([{ dryRun: true }, { dryRun: true }, { reason: 'bad', basis: BASIS }]);
  });

  it('--yes applies without a plan, as before', async () => {
    const run = { id: 'PRUNRUNRUN', rollbackStatus: 'rolled back' } as unknown as PipelineRunView;
    const { api, env } = await serve({
      'POST /api/pipelines/runs/PRUNRUNRUN/rollback': () => run,
      'GET /api/pipelines/runs/PRUNRUNRUN/events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`event: end\ndata: ${JSON.stringify(run)}\n\n`);
      },
    });
    const r = await rewind(['pipelines', 'rollback', 'PRUNRUNRUN', '--yes'], env, true, '');
    expect(r.code, r.stderr).toBe(0);
    expect(bodies(api.requests, '/api/pipelines/runs/PRUNRUNRUN/rollback')).toEqual([{}]);
  });
});
