import { useState } from 'react';
import { pipelines } from '../api/pipelines';
import type { PipelineRunView } from '../api/types';
import { AppShell } from '../components/app-shell';
import { Ago, ErrorNote, Id, Loading, StateBadge } from '../components/primitives';
import { LogLines, RollbackSection, useRunLog } from '../components/run-log';
import { RunRollbackDialog } from '../components/run-rollback-dialog';
import { RollbackBadge } from '../components/run-table';
import { RunTasks } from '../components/run-tasks';
import { useResource } from '../lib/live';
import { Link } from '../lib/router';

/** Pipeline activity of one run: its tasks, its log, Approve/Reject, Rollback (during or after), and the rollback section. */
export function RunPage({ app, id }: { app: string; id: string }) {
  return (
    <AppShell app={app} title={`Run ${id}`}>
      {() => <Run app={app} id={id} />}
    </AppShell>
  );
}

function Run({ app, id }: { app: string; id: string }) {
  const res = useResource(
    `run:${id}`,
    () => pipelines.run(id),
    (e) => e.subject === id || e.app === app,
  );
  const run = res.data;
  const log = useRunLog(id, run?.rollbackStatus ?? '', res.reload);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  if (!run) return res.error ? <ErrorNote error={res.error} action={`load run ${id}`} /> : <Loading what={`run ${id}`} />;
  const decide = (approve: boolean) => async () => {
    setError(null);
    try {
      await (approve ? pipelines.approve(id) : pipelines.reject(id));
      res.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const canRollBack = run.rollbackStatus === 'none' || run.rollbackStatus === 'failed';
  return (
    <>
      <div className="page-head">
        <h2>
          Run <Id>{run.id}</Id> of {run.pipeline} <StateBadge state={run.status} /> <RollbackBadge status={run.rollbackStatus} />
        </h2>
        <div className="actions">
          {run.status === 'waiting' && (
            <>
              <button type="button" onClick={decide(true)}>
                Approve
              </button>
              <button type="button" onClick={decide(false)}>
                Reject
              </button>
            </>
          )}
          {canRollBack && (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Rollback
            </button>
          )}
        </div>
      </div>
      <Facts app={app} run={run} />
      <ErrorNote error={error ?? res.error} action="update the run" />
      <section className="section">
        <h2>Tasks</h2>
        <RunTasks app={app} tasks={run.tasks} onRollback={canRollBack ? () => setConfirming(true) : undefined} />
      </section>
      <section className="section">
        <h2>Log</h2>
        <LogLines lines={log.lines.filter((l) => l.section !== 'rollback')} label="Run log" />
        <ErrorNote error={log.error} action="stream the run's log" />
      </section>
      <RollbackSection run={run} lines={log.lines} />
      {confirming && (
        <RunRollbackDialog
          run={run}
          onClose={() => setConfirming(false)}
          onStarted={() => {
            setConfirming(false);
            res.reload();
          }}
        />
      )}
    </>
  );
}

function Facts({ app, run }: { app: string; run: PipelineRunView }) {
  return (
    <dl className="facts wide">
      <dt>Started</dt>
      <dd>
        <Ago at={run.createdAt} /> by {run.createdBy}
      </dd>
      {run.build && (
        <>
          <dt>Build</dt>
          <dd>
            <Link to={`/apps/${app}/builds/${run.build}`}>
              <Id>{run.build}</Id>
            </Link>
          </dd>
        </>
      )}
      <dt>Stories</dt>
      <dd>
        {run.stories.length === 0 && <span className="muted">none</span>}
        {run.stories.map((s) => (
          <Link key={s} to={`/apps/${app}/stories/${encodeURIComponent(s)}`} className="chip">
            {s}
          </Link>
        ))}
      </dd>
      {run.error && (
        <>
          <dt>Error</dt>
          <dd>{run.error}</dd>
        </>
      )}
    </dl>
  );
}
