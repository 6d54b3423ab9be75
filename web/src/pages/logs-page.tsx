import { rewind } from '../api/rewind';
import { AppShell } from '../components/app-shell';
import { Ago, Badge, ErrorNote, Id, Loading } from '../components/primitives';
import { TextStream } from '../components/text-stream';
import { aboutApp, useResource } from '../lib/live';

/** The instances an environment runs (like `rewind ps`) and their logs, streaming (like `rewind logs -f`). */
export function LogsPage({ app }: { app: string }) {
  return (
    <AppShell app={app} title="Processes & logs" envPicker>
      {(_a, env) => <Processes app={app} env={env} />}
    </AppShell>
  );
}

function Processes({ app, env }: { app: string; env: string }) {
  const ps = useResource(`ps:${app}:${env}`, () => rewind.ps(app, env), aboutApp(app));
  // On a target of several hosts (Swarm) each instance names its node.
  const nodes = ps.data?.some((p) => p.node) ?? false;
  return (
    <>
      <section className="section">
        <h2>Processes</h2>
        <ErrorNote error={ps.error} action="list the processes" />
        {!ps.data && !ps.error && <Loading what="processes" />}
        {ps.data && ps.data.length === 0 && <p className="muted">Nothing runs in {env}.</p>}
        {ps.data && ps.data.length > 0 && (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">State</th>
                <th scope="col">Release</th>
                <th scope="col">Build</th>
                {nodes && <th scope="col">Node</th>}
                <th scope="col">PID</th>
                <th scope="col">Started</th>
                <th scope="col">Restarts</th>
                <th scope="col">Memory</th>
              </tr>
            </thead>
            <tbody>
              {ps.data.map((p) => (
                <tr key={p.id}>
                  <td>
                    <code>{p.id}</code>
                  </td>
                  <td>
                    <Badge tone={p.state === 'healthy' || p.state === 'running' ? 'ok' : 'idle'}>{p.state}</Badge>
                  </td>
                  <td>
                    <Id>{p.release}</Id>
                  </td>
                  <td>
                    <Id>{p.build}</Id>
                  </td>
                  {nodes && <td>{p.node ?? '—'}</td>}
                  <td>{p.pid ?? '—'}</td>
                  <td>
                    <Ago at={p.startedAt} />
                  </td>
                  <td>{p.restarts}</td>
                  <td>{p.rss ? `${Math.round(p.rss / 1048576)} MB` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="section">
        <h2>Logs</h2>
        <TextStream path={`/api/apps/${encodeURIComponent(app)}/logs?env=${encodeURIComponent(env)}&follow=true&lines=200`} label={`Logs of ${env}`} />
      </section>
    </>
  );
}
