import { describe, expect, it } from 'vitest';
import type { Build } from '../../src/domain/build.js';
import { RewindError } from '../../src/domain/errors.js';
import type { ComponentSpec, Manifest } from '../../src/domain/manifest-types.js';
import { planPromotion } from '../../src/domain/promote-plan.js';
import type { Release } from '../../src/domain/release.js';
import { componentMove, previousRelease, revertRelease, rollbackComponents, rollbackToPrevious, rollbackToRelease } from '../../src/domain/rollback-plan.js';

const spec = (name: string, command = `./${name}`): ComponentSpec => ({
  name,
  command,
  port: name === 'web',
  health: { path: '/', timeoutMs: 5000, intervalMs: 100 },
  scale: 1,
});
const manifestOf = (...names: string[]): Manifest => ({ components: Object.fromEntries(names.map((n) => [n, spec(n)])) });

function release(id: string, builds: Record<string, string>, config: Record<string, string> = {}, env = 'production'): Release {
  return {
    id,
    app: 'pay',
    env,
    kind: 'build',
    builds,
    config,
    manifest: manifestOf(...Object.keys(builds)),
    description: id,
    source: null,
    createdBy: 'ann',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

function build(id: string, o: { status?: Build['status']; components: string[] }): Build {
  return {
    id,
    app: 'pay',
    env: 'production',
    status: o.status ?? 'succeeded',
    description: 'build',
    manifest: manifestOf('web', 'api', 'worker'),
    sourceSha256: 'a'.repeat(64),
    components: o.components,
    artifacts: o.status === undefined || o.status === 'succeeded' ? Object.fromEntries(o.components.map((c) => [c, 'b'.repeat(64)])) : {},
    sourceHashes: {},
    release: null,
    error: null,
    createdBy: 'ann',
    createdAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
  };
}

/** The code and message of what `f` throws. */
function refusal(f: () => unknown): [string, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof RewindError) return [e.code, e.message];
    throw e;
  }
  throw new Error('not refused');
}

const r1 = release('RAAAAAAAAA1', { web: 'BAAAAAAAAAA' }, { A: '1' });
const r2 = release('RAAAAAAAAA2', { web: 'BBBBBBBBBBB', api: 'BCCCCCCCCCC' }, { A: '2', B: 'x' });

describe('which release is previous', () => {
  const cases: ReadonlyArray<[string, { release: string; fromRelease: string | null } | undefined, string | null]> = [
    ['the deployment that made it live came from R1', { release: r2.id, fromRelease: r1.id }, r1.id],
    ['it was the first release', { release: r2.id, fromRelease: null }, null],
    ['the last succeeded deployment made another release live', { release: r1.id, fromRelease: null }, null],
    ['no deployment succeeded', undefined, null],
  ];
  for (const [name, last, previous] of cases) it(name, () => expect(previousRelease(r2, last)).toBe(previous));
});

describe('rollback decisions', () => {
  it('to previous: a copy of the previous release', () => {
    expect(rollbackToPrevious(r2, r1)).toEqual({
      next: { builds: r1.builds, config: r1.config, manifest: r1.manifest },
      description: `rollback to ${r1.id}`,
      source: r1.id,
    });
  });

  it('to previous of the first release: empty (the Boomi bundle rule), keeping its config', () => {
    const change = rollbackToPrevious(r2, null);
    expect(change).toEqual({ next: { builds: {}, config: r2.config, manifest: null }, description: `rollback to empty (before ${r2.id})`, source: null });
  });

  it('to a release: a copy of it, refused across environments', () => {
    expect(rollbackToRelease(r1, 'production')).toMatchObject({ next: { builds: r1.builds, config: r1.config }, source: r1.id });
    const staging = release('RAAAAAAAAA3', { web: 'BAAAAAAAAAA' }, {}, 'staging');
    expect(refusal(() => rollbackToRelease(staging, 'production'))).toEqual([
      'RELEASE_IN_OTHER_ENV',
      'release RAAAAAAAAA3 belongs to environment "staging", not "production"; pass -e staging',
    ]);
  });

  it('component moves keep the other components and the config', () => {
    const move = componentMove('pay', 'web', 'BDDDDDDDDDD', build('BDDDDDDDDDD', { components: ['web'] }));
    const change = rollbackComponents(r2, [move]);
    expect(change.next.builds).toEqual({ web: 'BDDDDDDDDDD', api: 'BCCCCCCCCCC' });
    expect(change.next.config).toEqual(r2.config);
    expect(Object.keys(change.next.manifest!.components).sort()).toEqual(['api', 'web']);
    expect([change.description, change.source]).toEqual(['rollback web to BDDDDDDDDDD', null]);
  });

  const moves: ReadonlyArray<[string, string, Build | undefined, string]> = [
    ['not a build id', 'web-1', undefined, 'INVALID_BUILD_ID'],
    ['no such build', 'BEEEEEEEEEE', undefined, 'BUILD_NOT_FOUND'],
    ['a failed build', 'BEEEEEEEEEE', build('BEEEEEEEEEE', { status: 'failed', components: ['web'] }), 'BUILD_NOT_SUCCEEDED'],
    ['a running build', 'BEEEEEEEEEE', build('BEEEEEEEEEE', { status: 'running', components: ['web'] }), 'BUILD_NOT_SUCCEEDED'],
    ['a build of another component', 'BEEEEEEEEEE', build('BEEEEEEEEEE', { components: ['api'] }), 'BUILD_LACKS_COMPONENT'],
  ];
  for (const [name, id, b, code] of moves)
    it(`refuses a component move to ${name}`, () => expect(refusal(() => componentMove('pay', 'web', id, b))[0]).toBe(code));

  it('revert undoes only what the release changed, keeping later changes to the others', () => {
    // r2 changed web, added api, changed A and added B; since then worker was added and C set.
    const now = release('RAAAAAAAAA4', { web: 'BBBBBBBBBBB', api: 'BCCCCCCCCCC', worker: 'BFFFFFFFFFF' }, { A: '2', B: 'x', C: 'y' });
    const change = revertRelease(now, r1, r2, 'production');
    expect(change.next.builds).toEqual({ web: 'BAAAAAAAAAA', worker: 'BFFFFFFFFFF' });
    expect(change.next.config).toEqual({ A: '1', C: 'y' });
    expect([change.description, change.source]).toEqual([`revert ${r2.id}`, r2.id]);
  });
});

describe('promotion decisions', () => {
  const staging = release('RSSSSSSSSSS', { web: 'BGGGGGGGGGG', api: 'BHHHHHHHHHH' }, { A: 'staging' }, 'staging');
  const prod = release('RPPPPPPPPPP', { web: 'BAAAAAAAAAA', worker: 'BFFFFFFFFFF' }, { A: 'prod' });
  const current = { id: 'RCCCCCCCCCC', config: { A: 'prod-staged-not', B: 'in effect' } };

  it("promotes every component by default, onto the target's own config in effect", () => {
    const p = planPromotion({ from: 'staging', to: 'production', source: staging, active: prod, current });
    expect(p.next.builds).toEqual({ web: 'BGGGGGGGGGG', api: 'BHHHHHHHHHH', worker: 'BFFFFFFFFFF' });
    expect(p.next.config).toEqual(current.config);
    expect(p.description).toBe('promote RSSSSSSSSSS from staging (web, api)');
    expect(p.basis).toEqual([
      { env: 'production', release: prod.id, config: current.id },
      { env: 'staging', release: staging.id },
    ]);
  });

  it('promotes only the components asked for, once each', () => {
    const p = planPromotion({ from: 'staging', to: 'production', source: staging, active: prod, current, components: ['api', 'api'] });
    expect(p.next.builds).toEqual({ web: 'BAAAAAAAAAA', worker: 'BFFFFFFFFFF', api: 'BHHHHHHHHHH' });
    expect(p.description).toBe('promote RSSSSSSSSSS from staging (api)');
  });

  it('into an empty environment: no config, no release in the basis', () => {
    const p = planPromotion({ from: 'staging', to: 'test', source: staging, active: null, current: null });
    expect(p.next.config).toEqual({});
    expect(p.basis[0]).toEqual({ env: 'test', release: null, config: null });
  });

  it('refuses a component the source does not have', () => {
    expect(refusal(() => planPromotion({ from: 'staging', to: 'production', source: staging, active: prod, current, components: ['worker'] }))).toEqual([
      'UNKNOWN_COMPONENT',
      'RSSSSSSSSSS in staging has no component worker; its components are web, api',
    ]);
  });
});
