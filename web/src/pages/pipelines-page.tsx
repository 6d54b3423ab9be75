import { useState } from 'react';
import { pipelines, taskOptions } from '../api/pipelines';
import type { PipelineView } from '../api/types';
import { AppShell } from '../components/app-shell';
import { Badge, Command, Empty, ErrorNote, Loading } from '../components/primitives';
import { RunDialog } from '../components/run-dialog';
import { RunTable } from '../components/run-table';
import { aboutApp, useResource } from '../lib/live';

/** Pipelines: their definitions (tasks in order), a Run button each, and the app's pipeline activity. */
export function PipelinesPage({ app }: { app: string }) {
  return (
    <AppShell app={app} title="Pipelines">
      {() => <Pipelines app={app} />}
    </AppShell>
  );
}

function Pipelines({ app }: { app: string }) {
  const defs = useResource(`pipelines:${app}`, () => pipelines.list(app), aboutApp(app));
  const runs = useResource(`runs:${app}`, () => pipelines.runs(app), aboutApp(app));
  const [running, setRunning] = useState<PipelineView | null>(null);
  return (
    <>
      <section className="section first">
        <h2>Definitions</h2>
        <ErrorNote error={defs.error} action="load the pipelines" />
        {!defs.data && !defs.error && <Loading what="pipelines" />}
        {defs.data?.length === 0 && (
          <Empty title="No pipelines yet">
            <p>
              Define them under <code>pipelines:</code> in rewind.yml, for example:
            </p>
            <Command>
              {'pipelines:\n  ship:\n    - build\n    - deploy: { env: production, enableRollback: true }\n    - approval: { message: Keep it? }'}
            </Command>
          </Empty>
        )}
        <div className="envs">
          {defs.data?.map((p) => (
            <section key={p.name} className="card" aria-labelledby={`pipeline-${p.name}`}>
              <header className="env-head">
                <h3 id={`pipeline-${p.name}`} className="plain">
                  {p.name}
                </h3>
                <Badge tone="kind">{p.source}</Badge>
              </header>
              <ol className="steps">
                {p.tasks.map((t, i) => {
                  const task = t as { kind: string; name: string };
                  return (
                    <li key={i}>
                      <strong>{task.name}</strong>{' '}
                      <span className="muted">
                        {task.kind !== task.name ? task.kind : ''} {taskOptions(task.kind, t)}
                      </span>
                    </li>
                  );
                })}
              </ol>
              <button type="button" className="primary" onClick={() => setRunning(p)} aria-label={`Run ${p.name}`}>
                Run
              </button>
            </section>
          ))}
        </div>
      </section>
      <section className="section">
        <h2>Activity</h2>
        <ErrorNote error={runs.error} action="load the pipeline activity" />
        {runs.data ? <RunTable app={app} runs={runs.data} /> : !runs.error && <Loading what="runs" />}
      </section>
      {running && <RunDialog app={app} pipeline={running.name} onClose={() => setRunning(null)} />}
    </>
  );
}
