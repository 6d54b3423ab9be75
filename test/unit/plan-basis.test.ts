import { describe, expect, it } from 'vitest';
import { describeBasisChange } from '../../src/domain/plan.js';

describe('what changed since a plan (STALE_PLAN messages)', () => {
  const planned = { env: 'production', release: 'RAAAAAAAAA', config: 'RAAAAAAAAA' };

  it('names the new active release, who made it, and the config keys that changed', () => {
    const change = describeBasisChange(
      planned,
      { release: 'RBBBBBBBBB', by: 'admin', description: 'env add:FEATURE_FLAG' },
      { was: { A: '1', B: '2' }, is: { A: '1', B: '3', FEATURE_FLAG: 'on' } },
    );
    expect(change).toBe(
      `production's active release is now RBBBBBBBBB ("env add:FEATURE_FLAG" by admin) (was RAAAAAAAAA); config changed: FEATURE_FLAG added, B changed`,
    );
  });

  it('says config alone, or the release alone, or nothing', () => {
    expect(describeBasisChange(planned, { release: 'RAAAAAAAAA' }, { was: { A: '1' }, is: {} })).toBe("production's config changed: A removed");
    expect(describeBasisChange(planned, { release: null }, { was: {}, is: {} })).toBe("production's active release is now none (was RAAAAAAAAA)");
    expect(describeBasisChange({ env: 'test', release: null }, { release: null })).toBeNull();
    expect(describeBasisChange(planned, { release: 'RAAAAAAAAA' }, { was: { A: '1' }, is: { A: '1' } })).toBeNull();
  });
});
