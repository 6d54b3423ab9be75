import { useState, type FormEvent } from 'react';
import { rewind } from '../api/rewind';
import type { AppView } from '../api/types';
import { Command, Empty, ErrorNote, Health, Id, Loading } from '../components/primitives';
import { Layout } from '../components/layout';
import { useResource } from '../lib/live';
import { Link, navigate } from '../lib/router';

/** Every app with each environment's active release, health and URL. */
export function AppsPage() {
  const apps = useResource('apps', rewind.apps);
  return (
    <Layout crumbs={[{ label: 'Apps' }]}>
      <div className="page-head">
        <h1>Apps</h1>
        <CreateApp />
      </div>
      <ErrorNote error={apps.error} action="load the apps" />
      {!apps.data && !apps.error && <Loading what="apps" />}
      {apps.data?.length === 0 && (
        <Empty title="No apps yet">
          <p>Deploy a first app from a terminal:</p>
          <Command>{'rewind apps create NAME\nrewind deploy DIR -a NAME'}</Command>
          <p className="muted">
            For example, from the Rewind folder: <code>rewind apps create hello</code> then <code>rewind deploy examples/hello -a hello</code>. Or create the
            app here and deploy it with the second command.
          </p>
        </Empty>
      )}
      <ul className="app-list">
        {apps.data?.map((a) => (
          <AppCard key={a.name} app={a} />
        ))}
      </ul>
    </Layout>
  );
}

function AppCard({ app }: { app: AppView }) {
  return (
    <li className="card app-card">
      <h2>
        <Link to={`/apps/${app.name}`}>{app.name}</Link>
      </h2>
      <table className="table compact">
        <thead>
          <tr>
            <th scope="col">Environment</th>
            <th scope="col">Active release</th>
            <th scope="col">Health</th>
            <th scope="col">URL</th>
          </tr>
        </thead>
        <tbody>
          {app.environments.map((e) => (
            <tr key={e.name}>
              <td>{e.name}</td>
              <td>
                {e.activeRelease ? (
                  <Link to={`/apps/${app.name}/releases/${e.activeRelease}${e.name === 'production' ? '' : `?env=${e.name}`}`}>
                    <Id>{e.activeRelease}</Id>
                  </Link>
                ) : (
                  <span className="muted">nothing deployed</span>
                )}
              </td>
              <td>
                <Health health={e.health} />
              </td>
              <td>
                <a href={e.url} target="_blank" rel="noreferrer">
                  {e.url}
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {app.environments.every((e) => !e.activeRelease) && <Command>{`rewind deploy DIR -a ${app.name}`}</Command>}
    </li>
  );
}

function CreateApp() {
  const [name, setName] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const app = await rewind.createApp(name.trim());
      navigate(`/apps/${app.name}`);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create an app">
      <label>
        <span className="sr-only">New app name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="new-app-name" pattern="[a-z][a-z0-9\-]{0,62}" required />
      </label>
      <button type="submit" disabled={busy}>
        Create app
      </button>
      <ErrorNote error={error} action="create the app" />
    </form>
  );
}
