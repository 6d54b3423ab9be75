import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { AppView } from '../api/types';
import { ActionFor, type Action } from '../components/actions';
import { AppShell } from '../components/app-shell';
import { UpgradesPanel } from '../components/upgrades-panel';
import { Ago, Badge, Command, Desc, Empty, ErrorNote, Id, Loading } from '../components/primitives';
import { aboutApp, useResource } from '../lib/live';
import { useRunningDeployment } from '../lib/running';
import { Link } from '../lib/router';

/** The release timeline of one environment, newest first, with Rollback and Promote on the others; above it, its template upgrades, if any. */
export function ReleasesPage({ app }: { app: string }) {
  return (
    <AppShell app={app} title="Releases" envPicker>
      {(a, env) => <Timeline app={a} env={env} />}
    </AppShell>
  );
}

/** Owns the dialog, so that it stays open while the timeline under it reloads. */
function Timeline({ app, env }: { app: AppView; env: string }) {
  const [action, setAction] = useState<Action | null>(null);
  return (
    <>
      <UpgradesPanel app={app.name} env={env} onAction={setAction} />
      <ReleaseList app={app} env={env} onAction={setAction} />
      {action && <ActionFor app={app.name} env={env} action={action} onClose={() => setAction(null)} />}
    </>
  );
}

function ReleaseList({ app, env, onAction }: { app: AppView; env: string; onAction: (a: Action) => void }) {
  const name = app.name;
  const res = useResource(`releases:${name}:${env}`, () => rewind.releases(name, env, 100), aboutApp(name));
  const running = useRunningDeployment(name, env);
  if (res.error) return <ErrorNote error={res.error} action="load the releases" />;
  if (!res.data) return <Loading what="releases" />;
  if (res.data.length === 0)
    return (
      <Empty title={`No releases in ${env} yet`}>
        <p>A deploy makes the first one:</p>
        <Command>{`rewind deploy DIR -a ${name}${env === 'production' ? '' : ` -e ${env}`}`}</Command>
      </Empty>
    );
  const activeAt = res.data.findIndex((r) => r.status === 'active');
  const q = env === 'production' ? '' : `?env=${encodeURIComponent(env)}`;
  // While a deployment runs the server refuses another change (409): say so, and hold the buttons back.
  const busy = running ? `A deployment of ${running.release} is running` : undefined;
  return (
    <>
      {running && (
        <p className="warn-note" role="status">
          <Id>{running.release}</Id> is being deployed ({running.kind}, started <Ago at={running.createdAt} /> by {running.createdBy}):{' '}
          <Link to={`/apps/${name}/deployments/${running.id}`}>follow its deployment</Link>. Rollback and Promote are available again once it ends.
        </p>
      )}
      <ol className="timeline" aria-label={`Releases of ${name} in ${env}, newest first`}>
        {res.data.map((r, i) => {
          const active = r.status === 'active';
          const older = activeAt < 0 || i > activeAt;
          return (
            <li key={r.id} className={active ? 'release current' : 'release'} data-release={r.id} aria-current={active ? 'true' : undefined}>
              <span className={`dot kind-${r.kind}`} aria-hidden="true" />
              <div className="release-main">
                <div className="release-line">
                  <Link to={`/apps/${name}/releases/${r.id}${q}`}>
                    <Id>{r.id}</Id>
                  </Link>
                  {active && <Badge tone="active">active</Badge>}
                  {r.status === 'rolled back' && <Badge tone="warn">rolled back</Badge>}
                  <Badge tone="kind">{r.kind}</Badge>
                  <Desc text={r.description} />
                </div>
                <div className="release-meta muted">
                  {r.build && (
                    <>
                      build <Id>{r.build}</Id>
                      {Object.keys(r.builds).length > 1 && ` +${Object.keys(r.builds).length - 1}`} ·{' '}
                    </>
                  )}
                  <Ago at={r.createdAt} /> by {r.createdBy}
                  {r.source && (
                    <>
                      {' '}
                      · copy of <Id>{r.source}</Id>
                    </>
                  )}
                </div>
              </div>
              {active && (
                <div className="release-actions">
                  <button type="button" disabled={!!running} title={busy} onClick={() => onAction({ kind: 'previous', release: r })}>
                    Roll back to previous release
                  </button>
                </div>
              )}
              {!active && (
                <div className="release-actions">
                  {older && (
                    <button
                      type="button"
                      aria-label={`Rollback to ${r.id}`}
                      disabled={!!running}
                      title={busy}
                      onClick={() => onAction({ kind: 'rollback', release: r })}
                    >
                      Rollback
                    </button>
                  )}
                  <button
                    type="button"
                    className="ghost"
                    aria-label={`Promote ${r.id}`}
                    disabled={!!running}
                    title={busy}
                    onClick={() => onAction({ kind: 'promote', release: r })}
                  >
                    Promote
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ol>
    </>
  );
}
