import { describe, expect, it } from 'vitest';
import { rolledBackBy, undoOf, type LiveStep } from '../../src/domain/release.js';

// The rules of docs/rollbacks.md, "Marks": which releases a new release marks `rolled back`.

type R = { id: string; builds: Record<string, string>; config: Record<string, string> };
const r = (id: string, builds: Record<string, string>, config: Record<string, string> = {}): R => ({ id, builds, config });

/** Live history newest first, from a list of releases in the order they went live. */
function history(...live: R[]): LiveStep[] {
  return live.map((release, i) => ({ release, replaced: live[i - 1] ?? null })).reverse();
}

// web and api; R2 changes web, R3 changes api, R4 changes config, R5 changes web and config.
const R1 = r('R1', { web: 'B1', api: 'B1' }, { A: '1' });
const R2 = r('R2', { web: 'B2', api: 'B1' }, { A: '1' });
const R3 = r('R3', { web: 'B2', api: 'B3' }, { A: '1' });
const R4 = r('R4', { web: 'B2', api: 'B3' }, { A: '1', B: '2' });
const R5 = r('R5', { web: 'B5', api: 'B3' }, { A: '1', B: '5' });
const live = history(R1, R2, R3, R4, R5);

describe('marks', () => {
  it('a rollback to a release marks every release that went live since it (their changes are all undone)', () => {
    const undo = undoOf({ kind: 'rollback', source: 'R2', builds: R2.builds }, { kind: 'build', source: null });
    expect(undo).toEqual({ kind: 'state', target: 'R2' });
    expect(rolledBackBy(undo, R2, live)).toEqual(['R5', 'R4', 'R3']);
  });

  it('a rollback to previous (and a template upgrade rollback, the release before the upgrade) marks the active release', () => {
    expect(rolledBackBy({ kind: 'state', target: 'R4' }, R4, live)).toEqual(['R5']);
  });

  it('a rollback to empty marks every release since nothing ran', () => {
    const undo = undoOf({ kind: 'rollback', source: null, builds: {} });
    expect(undo).toEqual({ kind: 'state', target: null });
    expect(rolledBackBy(undo, { builds: {} }, live)).toEqual(['R5', 'R4', 'R3', 'R2', 'R1']);
  });

  it('a rollback to a release that never went live marks the active release only', () => {
    expect(rolledBackBy({ kind: 'state', target: 'RSTAGED' }, R1, live)).toEqual(['R5']);
  });

  it('a rollback to the active release marks nothing', () => {
    expect(rolledBackBy({ kind: 'state', target: 'R5' }, R5, live)).toEqual([]);
  });

  it('a pipeline run rollback restores a backup: back to the release that was live when it was taken', () => {
    const undo = undoOf({ kind: 'rollback', source: 'RBACKUP', builds: { web: 'BCOPY' } }, { kind: 'backup', source: 'R3' });
    expect(undo).toEqual({ kind: 'state', target: 'R3' });
    expect(rolledBackBy(undo, { builds: { web: 'BCOPY' } }, live)).toEqual(['R5', 'R4']);
  });

  it('an automatic rollback (the agent back to the previous release) marks the release it left', () => {
    expect(rolledBackBy({ kind: 'state', target: 'R4' }, { builds: {} }, live)).toEqual(['R5']);
  });

  it('a revert marks the reverted release, not the later ones whose changes stay', () => {
    const undo = undoOf({ kind: 'revert', source: 'R2', builds: R5.builds });
    expect(undo).toEqual({ kind: 'revert', release: 'R2' });
    expect(rolledBackBy(undo, { builds: { web: 'B1', api: 'B3' } }, live)).toEqual(['R2']);
  });

  it('a component rollback marks the releases whose only changes were to those components', () => {
    const undo = undoOf({ kind: 'rollback', source: null, builds: { web: 'B1', api: 'B3' } });
    expect(undo).toEqual({ kind: 'components' });
    // web B5 → B1: R5 also changed config (kept), so only R2 (web B1 → B2, nothing else) is wholly undone.
    expect(rolledBackBy(undo, { builds: { web: 'B1', api: 'B3' } }, live)).toEqual(['R2']);
    // web back to B2 undoes R5's web change only: R5 keeps its config change, nothing is marked.
    expect(rolledBackBy(undo, { builds: { web: 'B2', api: 'B3' } }, live)).toEqual([]);
    // api B3 → B1 undoes R3 (api alone); R4 and R5 never touched api.
    expect(rolledBackBy(undo, { builds: { web: 'B5', api: 'B1' } }, live)).toEqual(['R3']);
  });

  it('a component rollback does not reach back past the time the component ran that build', () => {
    const a = r('RA', { web: 'B1' });
    const b = r('RB', { web: 'B2' });
    const c = r('RC', { web: 'B1' });
    const d = r('RD', { web: 'B4' });
    expect(rolledBackBy({ kind: 'components' }, { builds: { web: 'B1' } }, history(a, b, c, d))).toEqual(['RD']);
  });

  it('deploys, config changes, promotions and upgrades undo nothing', () => {
    for (const kind of ['build', 'env', 'promote', 'upgrade', 'backup'] as const) {
      const undo = undoOf({ kind, source: 'R2', builds: R2.builds });
      expect(undo).toEqual({ kind: 'nothing' });
      expect(rolledBackBy(undo, R2, live)).toEqual([]);
    }
  });
});
