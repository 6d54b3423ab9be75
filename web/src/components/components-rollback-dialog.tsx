import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { BuildView, ReleaseView } from '../api/types';
import { ownDescription } from '../lib/format';
import { aboutApp, useResource } from '../lib/live';
import { ErrorNote, Loading } from './primitives';
import { Modal } from './modal';

/**
 * Rainbond's rollback of several components at once (the CLI's `releases rollback --component
 * web=B… --component api=B…`): pick a build per component, then review the server's plan for all
 * of them in the usual dialog. Components left at their running build are kept.
 */
export function ComponentsRollbackDialog(p: {
  app: string;
  env: string;
  release: ReleaseView;
  onPlan: (builds: Record<string, string>) => void;
  onClose: () => void;
}) {
  const names = Object.keys(p.release.builds).sort();
  const builds = useResource(
    `builds:${p.app}:components:${names.join(',')}`,
    () => Promise.all(names.map((n) => rewind.builds(p.app, 100, n))),
    aboutApp(p.app),
  );
  const [picked, setPicked] = useState<Record<string, string>>({});
  const chosen = Object.fromEntries(Object.entries(picked).filter(([n, b]) => b && b !== p.release.builds[n]));
  const footer = (
    <>
      <button type="button" onClick={p.onClose}>
        Cancel
      </button>
      <button type="button" className="primary" disabled={Object.keys(chosen).length === 0} onClick={() => p.onPlan(chosen)}>
        Review the plan
      </button>
    </>
  );
  return (
    <Modal title={`Roll back components in ${p.env}`} onClose={p.onClose} footer={footer}>
      <p className="intro">
        Pick the build each component should run in <strong>{p.env}</strong>; the others keep theirs. Nothing changes before you confirm the plan.
      </p>
      <ErrorNote error={builds.error} action="load the builds" />
      {!builds.data && !builds.error && <Loading what="the builds" />}
      {builds.data && (
        <div className="stack">
          {names.map((n, i) => (
            <label className="field" key={n}>
              Build of {n}
              <select value={picked[n] ?? ''} onChange={(e) => setPicked({ ...picked, [n]: e.target.value })}>
                <option value="">keep {p.release.builds[n]} (running)</option>
                {choices(builds.data![i], p.release.builds[n]).map(({ build, newer }) => (
                  <option key={build.id} value={build.id}>
                    {build.id}
                    {newer ? ' (newer)' : ''} — {ownDescription(build.description) || 'no description'}
                  </option>
                ))}
              </select>
            </label>
          ))}
        </div>
      )}
    </Modal>
  );
}

/** The succeeded builds of a component other than the running one, newest first; those above the running one are newer. */
function choices(list: readonly BuildView[], running: string | undefined) {
  const at = list.findIndex((b) => b.id === running);
  return list.flatMap((build, i) => (build.status === 'succeeded' && build.id !== running ? [{ build, newer: at >= 0 && i < at }] : []));
}
