import { describe, expect, it } from 'vitest';
import { okRelease, servedVersions, setShopVersion, shopApp, useDir, useRewind } from './harness.js';

interface Release {
  id: string;
  builds: Record<string, string>;
  config: Record<string, string>;
  description: string;
}

/** A printed plan (`rewind … --dry-run`, `rewind diff`) read back: per component and config key. */
function readPlan(stdout: string) {
  const components: Record<string, { action: string; from: string | null; to: string | null }> = {};
  const config: Record<string, string> = {};
  let inConfig = false;
  for (const line of stdout.split('\n')) {
    if (line === '  config:') inConfig = true;
    else if (inConfig && /^ {4}\S/.test(line)) {
      const [key, action] = line.trim().split(/\s+/);
      config[key] = action;
    } else if (!inConfig && /^ {2}[a-z][a-z0-9-]*\s+(keep|change|add|remove)\s/.test(line)) {
      const [component, action, ...rest] = line.trim().split(/\s+/);
      const builds = rest.filter((w) => /^B[A-Z]{10}$/.test(w));
      const from = action === 'add' ? null : builds[0];
      const to = action === 'remove' ? null : (builds[1] ?? builds[0]);
      components[component] = { action, from, to };
    }
  }
  return { header: stdout.split('\n')[0], components, config };
}

/** What the plan promises, checked against the release that was made and the one it replaced. */
function expectCarriedOut(plan: ReturnType<typeof readPlan>, before: Release, after: Release) {
  const names = new Set([...Object.keys(before.builds), ...Object.keys(after.builds)]);
  expect(Object.keys(plan.components).sort()).toEqual([...names].sort());
  for (const [c, step] of Object.entries(plan.components)) {
    expect(before.builds[c] ?? null, c).toBe(step.from);
    expect(after.builds[c] ?? null, c).toBe(step.to);
  }
  const keys = new Set([...Object.keys(before.config), ...Object.keys(after.config)]);
  for (const k of keys) {
    const expected = !(k in before.config) ? 'add' : !(k in after.config) ? 'remove' : before.config[k] !== after.config[k] ? 'change' : undefined;
    expect(plan.config[k], k).toBe(expected);
  }
}

describe('plans: --dry-run shows what the action then does; revert; diff', () => {
  const rw = useRewind();
  const src = useDir(() => shopApp({ components: ['web', 'api'], versions: { web: 'v1', api: 'v1' } }));

  const release = async (id: string) => (await rw.api<Release>(`/api/apps/plans/releases/${id}`)).body;
  const active = async (env = 'production') =>
    (await rw.api<Array<{ name: string; activeRelease: string }>>('/api/apps/plans/envs')).body.find((e) => e.name === env)!.activeRelease;
  const count = async () => (await rw.api<unknown[]>('/api/apps/plans/releases?limit=100')).body.length;

  it('rollback, promote and revert: the dry run changes nothing and equals the release then made', async () => {
    await rw.ok(['apps', 'create', 'plans']);
    await rw.ok(['envs', 'create', 'test', '-a', 'plans']);
    await rw.ok(['env', 'set', 'SHOP_NAME=one', 'OLD=x', 'API_TOKEN=first', '-a', 'plans', '--no-promote']);
    const r1 = /^Release:\s+(R[A-Z]{10})$/m.exec((await rw.ok(['deploy', src.path, '-a', 'plans'])).stdout)![1];
    await setShopVersion(src.path, 'web', 'v2');
    await rw.ok(['deploy', src.path, '-a', 'plans']);
    await rw.ok(['env', 'set', 'SHOP_NAME=two', 'NEW=y', 'API_TOKEN=second', '-a', 'plans']);
    await rw.ok(['env', 'unset', 'OLD', '-a', 'plans']);

    // Rollback to r1: web changes back, config keys change, get added and removed.
    const current = await release((await active())!);
    const n = await count();
    const dry = await rw.ok(['releases', 'rollback', r1, '-a', 'plans', '--dry-run']);
    expect(await count()).toBe(n);
    expect(await active()).toBe(current.id);
    const plan = readPlan(dry.stdout);
    expect(plan.header).toBe(`Plan: rollback to ${r1} in plans/production (active: ${current.id})`);
    expect(plan.components.web.action).toBe('change');
    expect(plan.components.api.action).toBe('keep');
    expect(plan.config).toEqual({ API_TOKEN: 'change', NEW: 'remove', OLD: 'add', SHOP_NAME: 'change' });
    expect(dry.stdout).toMatch(/^ {4}API_TOKEN\s+change\s+\*{8} → \*{8}$/m); // secret values masked
    expect(dry.stdout).toMatch(/^ {4}SHOP_NAME\s+change\s+two → one$/m);
    const made = await release(okRelease((await rw.ok(['releases', 'rollback', r1, '-a', 'plans', '--yes'])).stdout)!);
    expectCarriedOut(plan, current, made);
    expect(await servedVersions(rw, 'plans', 'production', ['web', 'api'])).toEqual({ web: 'v1', api: 'v1' });

    // `rewind diff` between the two releases prints the same plan.
    const diff = readPlan((await rw.ok(['diff', current.id, made.id, '-a', 'plans'])).stdout);
    expect(diff.components).toEqual(plan.components);
    expect(diff.config).toEqual(plan.config);

    // Promotion of some components from test.
    await setShopVersion(src.path, 'api', 'v3');
    await rw.ok(['deploy', src.path, '-a', 'plans', '-e', 'test']);
    // A variable staged in production with --no-promote is not in effect there: a promotion does
    // not carry it (production's config is its active release's; docs/rollbacks.md).
    await rw.ok(['env', 'set', 'STAGED=1', '-a', 'plans', '--no-promote']);
    const prodBefore = await release((await active())!);
    const promoteDry = readPlan((await rw.ok(['promote', '-a', 'plans', '--from', 'test', '--components', 'api', '--dry-run'])).stdout);
    expect(promoteDry.components.api.action).toBe('change');
    expect(promoteDry.components.web.action).toBe('keep');
    expect(promoteDry.config).toEqual({});
    const promoted = await release(okRelease((await rw.ok(['promote', '-a', 'plans', '--from', 'test', '--components', 'api'])).stdout)!);
    expectCarriedOut(promoteDry, prodBefore, promoted);
    expect(promoted.config).toEqual(prodBefore.config); // production's own config, not test's
  });

  it('revert undoes one release and keeps later changes to other components and keys', async () => {
    // Production now: web v1, api v3. A release that changes web alone, then later ones that change api and config.
    await setShopVersion(src.path, 'web', 'v4');
    await setShopVersion(src.path, 'api', 'v3');
    const webRelease = /^Release:\s+(R[A-Z]{10})$/m.exec((await rw.ok(['deploy', src.path, '-a', 'plans'])).stdout)![1];
    await setShopVersion(src.path, 'api', 'v5');
    await rw.ok(['deploy', src.path, '-a', 'plans']);
    await rw.ok(['env', 'set', 'LATER=1', '-a', 'plans']);
    expect(await servedVersions(rw, 'plans', 'production', ['web', 'api'])).toEqual({ web: 'v4', api: 'v5' });

    const current = await release((await active())!);
    const dry = await rw.ok(['releases', 'revert', webRelease, '-a', 'plans', '--dry-run']);
    const plan = readPlan(dry.stdout);
    expect(plan.header).toBe(`Plan: revert ${webRelease} in plans/production (active: ${current.id})`);
    expect(plan.components.web.action).toBe('change');
    expect(plan.components.api.action).toBe('keep');
    expect(plan.config).toEqual({});

    const r = await rw.ok(['releases', 'revert', webRelease, '-a', 'plans']);
    expect(r.stdout.split('\n')[0]).toBe(`Reverting ${webRelease}...`);
    const made = await release(okRelease(r.stdout)!);
    expectCarriedOut(plan, current, made);
    expect(made.description).toBe(`revert ${webRelease}`);
    expect(made.config.LATER).toBe('1');
    expect(await servedVersions(rw, 'plans', 'production', ['web', 'api'])).toEqual({ web: 'v1', api: 'v5' });
  });
});
