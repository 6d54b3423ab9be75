import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { ReleaseView } from '../api/types';
import { ownDescription } from '../lib/format';
import { aboutApp, useResource } from '../lib/live';
import { ErrorNote, Loading } from './primitives';
import { PlanTable } from './plan-table';

/**
 * What `release` changes compared with another release of its environment: by default the one
 * that was active before it went live (its deployment's `fromRelease`), which is not always the
 * one under it in the list (a backup, a release staged without deploying, a rollback between);
 * for a release that never went live, the active one. The caption says which way it reads.
 */
export function DiffView({ release, others }: { release: ReleaseView; others: readonly ReleaseView[] }) {
  const candidates = others.filter((r) => r.id !== release.id);
  const active = candidates.find((r) => r.status === 'active');
  const deployments = useResource(`deployments:${release.app}:${release.env}`, () => rewind.deployments(release.app, release.env, 100), aboutApp(release.app));
  const before = deployments.data?.find((d) => d.release === release.id && d.fromRelease && d.fromRelease !== release.id)?.fromRelease;
  const [picked, setPicked] = useState<string>('');
  const fallback = before ?? (deployments.data ? (active?.id ?? candidates[0]?.id) : undefined) ?? '';
  const base = picked || fallback;
  // `others` is newest first: a base under this release in the list came before it.
  const at = (id: string) => others.findIndex((r) => r.id === id);
  const earlier = at(base) < 0 || at(release.id) < 0 || at(base) > at(release.id);
  const diff = useResource(`diff:${release.app}:${base}:${release.id}`, async () => (base ? rewind.diff(release.app, base, release.id) : null));
  if (candidates.length === 0) return <p className="muted">No other release to compare with.</p>;
  return (
    <div className="diff">
      <label className="field inline">
        Compare with
        <select value={base} onChange={(e) => setPicked(e.target.value)}>
          {candidates.map((r) => (
            <option key={r.id} value={r.id}>
              {r.id}
              {r.status === 'active' ? ' (active)' : ''}
              {r.id === before ? ' (before it went live)' : ''} — {ownDescription(r.description) || 'no description'}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={diff.error} action="compare the releases" />
      {(diff.data === undefined || !base) && !diff.error && <Loading what="the comparison" />}
      {diff.data && base && <PlanTable plan={diff.data} caption={`From ${base} (${earlier ? 'before' : 'later'}) to ${release.id} (this release)`} />}
    </div>
  );
}
