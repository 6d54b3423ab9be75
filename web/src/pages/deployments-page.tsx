import { rewind } from '../api/rewind';
import type { DeploymentView } from '../api/types';
import { AppShell } from '../components/app-shell';
import { Ago, Empty, ErrorNote, Id, Loading, StateBadge } from '../components/primitives';
import { DeploymentLog } from '../components/deployment-log';
import { duration, when } from '../lib/format';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';

const live = (d: DeploymentView) => d.state === 'pending' || d.state === 'running';

/** Deployments of an environment: the live ones first with their streaming log, then the past ones. */
export function DeploymentsPage({ app }: { app: string }) {
  return (
    <AppShell app={app} title="Deployments" envPicker>
      {(_a, env) => <Deployments app={app} env={env} />}
    </AppShell>
  );
}

function Deployments({ app, env }: { app: string; env: string }) {
  const res = useResource(`deployments:${app}:${env}`, () => rewind.deployments(app, env, 100), aboutApp(app));
  if (res.error) return <ErrorNote error={res.error} action="load the deployments" />;
  if (!res.data) return <Loading what="deployments" />;
  if (res.data.length === 0)
    return (
      <Empty title={`No deployments in ${env} yet`}>
        <p>
          Every deploy, promotion, rollback and config change shows up here with its steps. Start with <code>rewind deploy DIR -a {app}</code>.
        </p>
      </Empty>
    );
  const running = res.data.filter(live);
  return (
    <>
      {running.map((d) => (
        <section key={d.id} className="section">
          <h2>In progress</h2>
          <DeploymentLog id={d.id} />
        </section>
      ))}
      <table className="table">
        <caption className="sr-only">Deployments of {env}, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Outcome</th>
            <th scope="col">Kind</th>
            <th scope="col">Release</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {res.data.map((d) => (
            <tr key={d.id}>
              <td>
                <Link to={`/apps/${app}/deployments/${d.id}`}>
                  <Id>{d.id}</Id>
                </Link>
              </td>
              <td>
                <StateBadge state={d.state} />
                {d.error && <div className="small muted why">{d.error}</div>}
              </td>
              <td>{d.kind}</td>
              <td>
                {d.fromRelease ? <Id>{d.fromRelease}</Id> : '∅'} → <Id>{d.release}</Id>
              </td>
              <td>
                <Ago at={d.createdAt} /> by {d.createdBy}
              </td>
              <td>{live(d) ? 'running…' : duration(d.createdAt, d.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** One deployment: its facts, its steps (live while it runs) and its outcome. */
export function DeploymentPage({ app, id }: { app: string; id: string }) {
  const res = useResource(
    `deployment:${id}`,
    () => rewind.deployment(id),
    (e) => e.subject === id || e.app === app,
  );
  const d = res.data;
  return (
    <AppShell app={app} title={id}>
      {() => (
        <>
          <ErrorNote error={res.error} action={`load deployment ${id}`} />
          {d && (
            <dl className="facts wide">
              <dt>Outcome</dt>
              <dd>
                <StateBadge state={d.state} /> {d.error}
              </dd>
              <dt>What</dt>
              <dd>
                {d.kind} in {d.env}: {d.fromRelease ? <Id>{d.fromRelease}</Id> : 'nothing'} → <Id>{d.release}</Id>
              </dd>
              <dt>Started</dt>
              <dd>
                {when(d.createdAt)} by {d.createdBy}
                {d.finishedAt && `, took ${duration(d.createdAt, d.finishedAt)}`}
              </dd>
            </dl>
          )}
          <DeploymentLog id={id} onEnd={() => res.reload()} />
        </>
      )}
    </AppShell>
  );
}
