import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { AppView, BuildView, EnvironmentView, ReleaseView } from '../api/types';
import { ActionFor, type Action } from '../components/actions';
import { AppShell } from '../components/app-shell';
import { Ago, Command, Desc, Empty, ErrorNote, Health, Id } from '../components/primitives';
import { ActivityList } from '../components/activity-list';
import { ComponentsRollbackDialog } from '../components/components-rollback-dialog';
import { UpgradesPanel } from '../components/upgrades-panel';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';

const envQ = (env: string) => (env === 'production' ? '' : `?env=${encodeURIComponent(env)}`);

/** An app at a glance: its environments side by side, their components and running builds, template upgrades, recent activity. */
export function AppPage({ app }: { app: string }) {
  return <AppShell app={app}>{(a) => <Overview app={a} />}</AppShell>;
}

function Overview({ app }: { app: AppView }) {
  const [action, setAction] = useState<{ env: string; action: Action } | null>(null);
  /** The environment whose components are being picked for a rollback of several at once. */
  const [picking, setPicking] = useState<{ env: string; release: ReleaseView } | null>(null);
  const key = app.environments.map((e) => `${e.name}=${e.activeRelease}`).join(',');
  const actives = useResource(`actives:${app.name}:${key}`, () =>
    Promise.all(app.environments.map((e) => (e.activeRelease ? rewind.release(app.name, e.activeRelease) : Promise.resolve(null)))),
  );
  const builds = useResource(`builds:${app.name}`, () => rewind.builds(app.name), aboutApp(app.name));
  const byId = new Map((builds.data ?? []).map((b) => [b.id, b]));
  const envs = [...app.environments].sort((x, y) => x.position - y.position);
  return (
    <>
      <ErrorNote error={actives.error ?? builds.error} action="load the environments" />
      <div className="envs">
        {envs.map((e) => (
          <EnvCard
            key={e.name}
            app={app.name}
            env={e}
            release={actives.data?.[app.environments.indexOf(e)] ?? null}
            builds={byId}
            others={envs.filter((o) => o !== e).map((o) => o.name)}
            onAction={(act) => setAction(act)}
            onPickComponents={(release) => setPicking({ env: e.name, release })}
          />
        ))}
      </div>
      {envs.map((e) => (
        <UpgradesPanel key={e.name} app={app.name} env={e.name} onAction={(act) => setAction({ env: e.name, action: act })} />
      ))}
      {envs.every((e) => !e.activeRelease) && (
        <Empty title="Nothing deployed yet">
          <p>Deploy this app from its source folder:</p>
          <Command>{`rewind deploy DIR -a ${app.name}`}</Command>
        </Empty>
      )}
      <section className="section">
        <h2>Recent activity</h2>
        <ActivityList app={app.name} limit={8} />
        <Link to={`/apps/${app.name}/activity`}>All activity</Link>
      </section>
      {picking && (
        <ComponentsRollbackDialog
          app={app.name}
          env={picking.env}
          release={picking.release}
          onClose={() => setPicking(null)}
          onPlan={(builds) => {
            setPicking(null);
            setAction({ env: picking.env, action: { kind: 'components', builds } });
          }}
        />
      )}
      {action && <ActionFor app={app.name} env={action.env} action={action.action} onClose={() => setAction(null)} />}
    </>
  );
}

interface EnvCardProps {
  readonly app: string;
  readonly env: EnvironmentView;
  readonly release: ReleaseView | null;
  readonly builds: ReadonlyMap<string, BuildView>;
  /** The app's other environments, in order: targets for "Promote to". */
  readonly others: readonly string[];
  readonly onAction: (a: { env: string; action: Action }) => void;
  readonly onPickComponents: (release: ReleaseView) => void;
}

function EnvCard({ app, env, release, builds, others, onAction, onPickComponents }: EnvCardProps) {
  const q = envQ(env.name);
  return (
    <section className="card env-card" aria-labelledby={`env-${env.name}`}>
      <header className="env-head">
        <h2 id={`env-${env.name}`}>{env.name}</h2>
        <Health health={env.health} />
      </header>
      <a href={env.url} target="_blank" rel="noreferrer" className="url">
        {env.url}
      </a>
      {release ? (
        <dl className="facts">
          <dt>Active release</dt>
          <dd>
            <Link to={`/apps/${app}/releases/${release.id}${q}`} data-testid={`active-${env.name}`}>
              <Id>{release.id}</Id>
            </Link>{' '}
            <Desc text={release.description} />
          </dd>
          <dt>Since</dt>
          <dd>
            <Ago at={release.createdAt} /> by {release.createdBy}
          </dd>
        </dl>
      ) : (
        <p className="muted">{env.activeRelease ? 'Loading…' : 'Nothing deployed.'}</p>
      )}
      {release && Object.keys(release.builds).length > 0 && (
        <table className="table compact components">
          <caption>Components</caption>
          <tbody>
            {Object.entries(release.builds).map(([component, build]) => (
              <tr key={component}>
                <th scope="row">{component}</th>
                <td>
                  <Link to={`/apps/${app}/builds/${build}`}>
                    <Id>{build}</Id>
                  </Link>{' '}
                  {builds.get(build) && <Desc text={builds.get(build)?.description} />}
                  {env.components?.[component] && (
                    <>
                      {' '}
                      <a href={env.components[component]} target="_blank" rel="noreferrer" className="small">
                        {env.components[component]}
                      </a>
                    </>
                  )}
                </td>
                <td className="right">
                  <Link to={`/apps/${app}/components/${component}${q}`} aria-label={`View more versions of ${component} in ${env.name}`}>
                    View more versions
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <Link to={`/apps/${app}/releases${q}`} className="button">
          Releases
        </Link>
        <Link to={`/apps/${app}/config${q}`} className="button">
          Config
        </Link>
        {release && Object.keys(release.builds).length > 1 && (
          <button type="button" aria-label={`Roll back components in ${env.name}`} onClick={() => onPickComponents(release)}>
            Roll back components
          </button>
        )}
        {env.activeRelease &&
          others.map((to) => (
            <button key={to} type="button" onClick={() => onAction({ env: to, action: { kind: 'promote-env', from: env.name, to } })}>
              Promote to {to}
            </button>
          ))}
      </div>
    </section>
  );
}
