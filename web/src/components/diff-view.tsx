import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { ReleaseView } from '../api/types';
import { useFeatures } from '../lib/features';
import { useResource } from '../lib/live';
import { comparePlan } from '../lib/plan';
import { ErrorNote, Loading } from './bits';
import { PlanTable } from './plan-table';

/** What `release` changes compared with another release of its environment (by default the active one). */
export function DiffView({ release, others }: { release: ReleaseView; others: readonly ReleaseView[] }) {
  const features = useFeatures();
  const candidates = others.filter((r) => r.id !== release.id);
  const active = candidates.find((r) => r.status === 'active');
  const [picked, setPicked] = useState<string>('');
  const base = picked || active?.id || candidates[0]?.id || '';
  const diff = useResource(`diff:${release.app}:${base}:${release.id}:${features.diff}`, async () => {
    if (!base) return null;
    if (features.diff) return rewind.diff(release.app, base, release.id);
    const from = candidates.find((r) => r.id === base) ?? (await rewind.release(release.app, base));
    return comparePlan(release.app, release.env, from, release);
  });
  if (candidates.length === 0) return <p className="muted">No other release to compare with.</p>;
  return (
    <div className="diff">
      <label className="field inline">
        Compare with
        <select value={base} onChange={(e) => setPicked(e.target.value)}>
          {candidates.map((r) => (
            <option key={r.id} value={r.id}>
              {r.id}
              {r.status === 'active' ? ' (active)' : ''} — {r.description}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={diff.error} action="compare the releases" />
      {diff.data === undefined && !diff.error && <Loading what="the comparison" />}
      {diff.data && <PlanTable plan={diff.data} caption={`From ${base} to ${release.id}`} />}
    </div>
  );
}
