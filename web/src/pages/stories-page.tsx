import { pipelines } from '../api/pipelines';
import { AppShell } from '../components/app-shell';
import { Ago, Empty, ErrorNote, Loading, StateBadge } from '../components/primitives';
import { RunTable } from '../components/run-table';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';

/** Stories (work items) seen on pipeline runs, each leading to its pipeline activity. */
export function StoriesPage({ app }: { app: string }) {
  const res = useResource(`stories:${app}`, () => pipelines.stories(app), aboutApp(app));
  return (
    <AppShell app={app} title="Stories">
      {() => (
        <>
          <ErrorNote error={res.error} action="load the stories" />
          {!res.data && !res.error && <Loading what="stories" />}
          {res.data?.length === 0 && (
            <Empty title="No stories yet">
              <p>
                Runs started with <code>--story ID</code> (or stories in the console's Run dialog) show up here.
              </p>
            </Empty>
          )}
          {res.data && res.data.length > 0 && (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Story</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Last status</th>
                </tr>
              </thead>
              <tbody>
                {res.data.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link to={`/apps/${app}/stories/${encodeURIComponent(s.id)}`}>{s.id}</Link>
                    </td>
                    <td>{s.runs}</td>
                    <td>
                      <Ago at={s.lastRun} />
                    </td>
                    <td>
                      <StateBadge state={s.lastStatus} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </AppShell>
  );
}

export function StoryPage({ app, id }: { app: string; id: string }) {
  const res = useResource(`story:${app}:${id}`, () => pipelines.story(app, id), aboutApp(app));
  return (
    <AppShell app={app} title={`Story ${id}`}>
      {() => (
        <>
          <h2>Pipeline activity of {id}</h2>
          <ErrorNote error={res.error} action={`load story ${id}`} />
          {res.data ? <RunTable app={app} runs={res.data.runs} /> : !res.error && <Loading what="runs" />}
        </>
      )}
    </AppShell>
  );
}
