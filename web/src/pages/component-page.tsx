import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { AppView, BuildView } from '../api/types';
import { ActionFor, type Action } from '../components/actions';
import { AppShell } from '../components/app-shell';
import { Ago, Badge, Desc, ErrorNote, Id, Loading, StateBadge } from '../components/primitives';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';

/** "View more versions": one component's build history, with Rollback on its earlier succeeded builds and Roll forward on newer ones. */
export function ComponentPage({ app, component }: { app: string; component: string }) {
  return (
    <AppShell app={app} title={`${component} versions`} envPicker>
      {(a, env) => <Versions app={a} env={env} component={component} />}
    </AppShell>
  );
}

/** Owns the dialog, so that it stays open while the list under it reloads (a rollback changes the running build). */
function Versions({ app, env, component }: { app: AppView; env: string; component: string }) {
  const [action, setAction] = useState<Action | null>(null);
  return (
    <>
      <VersionList app={app} env={env} component={component} onAction={setAction} />
      {action && <ActionFor app={app.name} env={env} action={action} onClose={() => setAction(null)} />}
    </>
  );
}

function VersionList({ app, env, component, onAction }: { app: AppView; env: string; component: string; onAction: (a: Action) => void }) {
  const name = app.name;
  const active = app.environments.find((e) => e.name === env)?.activeRelease ?? null;
  const release = useResource(`release:${name}:${active}`, () => (active ? rewind.release(name, active) : Promise.resolve(null)));
  const builds = useResource(`builds:${name}:${component}`, () => rewind.builds(name, 200, component), aboutApp(name));
  if (builds.error) return <ErrorNote error={builds.error} action="load the builds" />;
  if (!builds.data || release.data === undefined) return <Loading what="versions" />;
  const running = release.data?.builds[component] ?? null;
  const list = builds.data;
  const runningAt = list.findIndex((b) => b.id === running);
  const earlier = (b: BuildView, i: number) => b.id !== running && (runningAt < 0 || i > runningAt);
  // After a rollback the builds above the running one are newer: the same rolling update moves it forward again.
  const newer = (b: BuildView, i: number) => b.id !== running && runningAt >= 0 && i < runningAt;
  return (
    <>
      <p className="muted">
        Builds of <strong>{component}</strong>, newest first.{' '}
        {running ? (
          <>
            Running in {env}: <Id>{running}</Id>.
          </>
        ) : (
          `Not running in ${env}.`
        )}
      </p>
      <ol className="timeline" aria-label={`Versions of ${component}`}>
        {list.map((b, i) => (
          <li key={b.id} className={b.id === running ? 'release current' : 'release'} data-build={b.id}>
            <span className="dot" aria-hidden="true" />
            <div className="release-main">
              <div className="release-line">
                <Link to={`/apps/${name}/builds/${b.id}`}>
                  <Id>{b.id}</Id>
                </Link>
                {b.id === running && <Badge tone="active">running</Badge>}
                {b.status !== 'succeeded' && <StateBadge state={b.status} />}
                <Desc text={b.description} />
              </div>
              <div className="release-meta muted">
                <Ago at={b.createdAt} /> by {b.createdBy}
                {b.error && ` · ${b.error}`}
              </div>
            </div>
            {b.status === 'succeeded' && earlier(b, i) && (
              <div className="release-actions">
                <button type="button" aria-label={`Rollback ${component} to ${b.id}`} onClick={() => onAction({ kind: 'component', component, build: b })}>
                  Rollback
                </button>
              </div>
            )}
            {b.status === 'succeeded' && newer(b, i) && (
              <div className="release-actions">
                <button
                  type="button"
                  aria-label={`Roll forward ${component} to ${b.id}`}
                  onClick={() => onAction({ kind: 'component', component, build: b, forward: true })}
                >
                  Roll forward
                </button>
              </div>
            )}
          </li>
        ))}
      </ol>
    </>
  );
}
