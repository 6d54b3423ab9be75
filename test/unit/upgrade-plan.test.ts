import { describe, expect, it } from 'vitest';
import { RewindError } from '../../src/domain/errors.js';
import type { Release } from '../../src/domain/release.js';
import type { TemplateVersion } from '../../src/domain/template.js';
import { newestLive, planUpgrade, planUpgradeRollback, rollbackTarget, upgradeTemplate, type UpgradeRecord } from '../../src/domain/upgrade-plan.js';

/** A record of template "shop" in pay/production; `from` null is an install. */
function record(
  id: string,
  o: { from: string | null; to: string; fromRelease: string | null; state?: UpgradeRecord['state']; rolledBack?: string },
): UpgradeRecord {
  return {
    id,
    app: 'pay',
    env: 'production',
    template: 'shop',
    fromVersion: o.from,
    toVersion: o.to,
    fromRelease: o.fromRelease,
    release: `R${id}`,
    deployment: `D${id}`,
    state: o.state ?? 'succeeded',
    rolledBackRelease: o.rolledBack ?? null,
    rolledBackBy: o.rolledBack ? 'ann' : null,
    rolledBackAt: o.rolledBack ? '2026-01-02T00:00:00.000Z' : null,
    createdBy: 'ann',
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

const install = record('U1', { from: null, to: '1.0', fromRelease: null });
const installOver = record('U1', { from: null, to: '1.0', fromRelease: 'R0' });
const up2 = record('U2', { from: '1.0', to: '2.0', fromRelease: 'RU1' });
const up3Failed = record('U3', { from: '2.0', to: '3.0', fromRelease: 'RU2', state: 'failed' });
const up2Undone = record('U2', { from: '1.0', to: '2.0', fromRelease: 'RU1', rolledBack: 'R9' });
const up3Running = record('U3', { from: '2.0', to: '3.0', fromRelease: 'RU2', state: 'running' });
const up2Gone = record('U2', { from: '1.0', to: '2.0', fromRelease: 'RU1', state: 'unknown' });

/** Newest first, as the store lists them. */
const cases: ReadonlyArray<{
  name: string;
  records: UpgradeRecord[];
  id?: string;
  goesTo?: string;
  undoes?: string;
  refused?: [string, RegExp];
  oneClick: string | null;
}> = [
  { name: 'no records', records: [], refused: ['NOTHING_TO_ROLL_BACK', /has no upgrade to roll back/], oneClick: null },
  { name: 'an install over nothing', records: [install], refused: ['NOTHING_TO_ROLL_BACK', /nothing ran there before it/], oneClick: null },
  { name: 'an install over a release', records: [installOver], undoes: 'U1', goesTo: 'R0', oneClick: 'U1' },
  { name: 'an upgrade after an install', records: [up2, install], undoes: 'U2', goesTo: 'RU1', oneClick: 'U2' },
  { name: 'a failed upgrade is skipped', records: [up3Failed, up2, install], undoes: 'U2', goesTo: 'RU1', oneClick: 'U2' },
  { name: 'a rolled-back upgrade is skipped', records: [up2Undone, install], refused: ['NOTHING_TO_ROLL_BACK', /nothing ran there/], oneClick: null },
  { name: 'by id: the newest live one', records: [up2, install], id: 'U2', undoes: 'U2', goesTo: 'RU1', oneClick: 'U2' },
  { name: 'by id: unknown', records: [up2, install], id: 'U7', refused: ['UPGRADE_NOT_FOUND', /upgrade U7 of pay\/production does not exist/], oneClick: 'U2' },
  {
    name: 'by id: an older one',
    records: [up2, install],
    id: 'U1',
    refused: ['UPGRADE_NOT_LATEST', /upgrade U2 \(1.0 to 2.0\) came after U1/],
    oneClick: 'U2',
  },
  {
    name: 'by id: rolled back already',
    records: [up2Undone, install],
    id: 'U2',
    refused: ['NOTHING_TO_ROLL_BACK', /already rolled back \(release R9\)/],
    oneClick: null,
  },
  {
    name: 'by id: failed',
    records: [up3Failed, up2],
    id: 'U3',
    refused: ['NOTHING_TO_ROLL_BACK', /did not go live \(its deployment DU3 failed\)/],
    oneClick: 'U2',
  },
  { name: 'by id: still deploying', records: [up3Running, up2], id: 'U3', refused: ['NOTHING_TO_ROLL_BACK', /its deployment DU3 running/], oneClick: 'U2' },
  {
    name: 'by id: its deployment is gone',
    records: [up2Gone, install],
    id: 'U2',
    refused: ['NOTHING_TO_ROLL_BACK', /its deployment DU2 is gone/],
    oneClick: null,
  },
];

describe('planUpgradeRollback', () => {
  for (const c of cases) {
    it(c.name, () => {
      if (c.refused) {
        const err = (() => {
          try {
            planUpgradeRollback('pay', 'production', c.records, c.id);
          } catch (e) {
            return e;
          }
          throw new Error('not refused');
        })();
        expect(err).toBeInstanceOf(RewindError);
        expect((err as RewindError).code).toBe(c.refused[0]);
        expect((err as RewindError).message).toMatch(c.refused[1]);
      } else {
        const plan = planUpgradeRollback('pay', 'production', c.records, c.id);
        expect([plan.upgrade.id, plan.toRelease]).toEqual([c.undoes, c.goesTo]);
      }
      expect(rollbackTarget(c.records)).toBe(c.oneClick);
    });
  }

  it('offers a one-click rollback exactly when a rollback with no id would be accepted', () => {
    for (const c of cases.filter((k) => k.id === undefined)) {
      const accepted = (() => {
        try {
          return planUpgradeRollback('pay', 'production', c.records).upgrade.id;
        } catch {
          return null;
        }
      })();
      expect([c.name, rollbackTarget(c.records)]).toEqual([c.name, accepted]);
    }
  });

  it('says what runs of the template: the newest record that went live and was not rolled back', () => {
    expect(newestLive([up3Failed, up2, install])?.toVersion).toBe('2.0');
    expect(newestLive([up2Undone, install])?.toVersion).toBe('1.0');
    expect(newestLive([up3Running])).toBeUndefined();
  });
});

const version = (v: string, config: Record<string, string> = {}): TemplateVersion => ({
  template: 'shop',
  version: v,
  seq: Number.parseFloat(v),
  sourceApp: 'store',
  sourceEnv: 'production',
  sourceRelease: 'RSSSSSSSSSS',
  artifacts: { web: 'a'.repeat(64), api: 'b'.repeat(64) },
  manifest: { components: {} },
  config,
  note: '',
  createdBy: 'ann',
  createdAt: '2026-01-01T00:00:00.000Z',
});
const versions = [version('2.0', { A: 'template', NEW: 'n' }), version('1.0')];
const active = { id: 'RAAAAAAAAAA', config: { A: 'mine' } } as unknown as Release;

describe('upgradeTemplate', () => {
  it('is the template asked for, or the one the environment runs', () => {
    expect(upgradeTemplate('pay', 'production', [], 'shop')).toBe('shop');
    expect(upgradeTemplate('pay', 'production', [up2, install], undefined)).toBe('shop');
    expect(upgradeTemplate('pay', 'production', [up2, install], 'shop')).toBe('shop');
  });

  it('refuses another template than the one it runs, and none at all', () => {
    expect(() => upgradeTemplate('pay', 'production', [up2], 'blog')).toThrow(/runs template shop, not blog/);
    expect(() => upgradeTemplate('pay', 'production', [], undefined)).toThrow(/was not installed from a template/);
  });
});

describe('planUpgrade', () => {
  const base = { app: 'pay', env: 'production', name: 'shop', versions };
  const cases: ReadonlyArray<{ name: string; records: UpgradeRecord[]; version?: string; verb?: string; description?: string; refused?: RegExp }> = [
    { name: 'an install of the newest', records: [], verb: 'install', description: 'install shop 2.0' },
    { name: 'an install of an older version', records: [], version: '1.0', verb: 'install', description: 'install shop 1.0' },
    { name: 'an upgrade from what went live', records: [install], verb: 'upgrade', description: 'upgrade shop 1.0 to 2.0' },
    { name: 'after a rolled-back upgrade, from the version before it', records: [up2Undone, install], verb: 'upgrade', description: 'upgrade shop 1.0 to 2.0' },
    { name: 'the version it runs', records: [up2, install], refused: /already runs shop 2.0; there is nothing to upgrade/ },
    { name: 'a version that does not exist', records: [], version: '9.9', refused: /template shop has no version 9.9; its versions are 2.0, 1.0/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = () => planUpgrade({ ...base, version: c.version, records: c.records }, active);
      if (c.refused) return void expect(plan).toThrow(c.refused);
      const p = plan();
      expect([p.verb, p.description]).toEqual([c.verb, c.description]);
      expect(p.next.builds).toEqual({ web: `shop@${p.target.version}`, api: `shop@${p.target.version}` });
    });
  }

  it("keeps the environment's own config and adds only the variables it lacks", () => {
    expect(planUpgrade({ ...base, records: [] }, active).config).toEqual({ A: 'mine', NEW: 'n' });
    expect(planUpgrade({ ...base, records: [] }, null).config).toEqual({ A: 'template', NEW: 'n' });
  });
});
