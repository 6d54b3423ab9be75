import type { PipelineRunView } from '../api/types';
import { duration } from '../lib/format';
import { Link } from '../lib/router';
import { Ago, Badge, Empty, Id, StateBadge } from './primitives';

const RB_TONE: Record<string, string> = { running: 'busy', 'rolled back': 'warn', failed: 'bad', 'not rolled back': 'idle' };
export const RollbackBadge = ({ status }: { status: string }) =>
  status === 'none' ? null : <Badge tone={RB_TONE[status] ?? 'idle'}>{status === 'running' ? 'rolling back' : status}</Badge>;

/** Pipeline activity: runs, newest first, with status, rollback status, stories and timing. */
export function RunTable({ app, runs }: { app: string; runs: readonly PipelineRunView[] }) {
  if (runs.length === 0) return <Empty title="No runs yet" />;
  return (
    <table className="table">
      <caption className="sr-only">Pipeline runs, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Pipeline</th>
          <th scope="col">Status</th>
          <th scope="col">Stories</th>
          <th scope="col">Started</th>
          <th scope="col">Took</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>
              <Link to={`/apps/${app}/pipelines/runs/${r.id}`} aria-label={`Activity of run ${r.id}`}>
                <Id>{r.id}</Id>
              </Link>
            </td>
            <td>{r.pipeline}</td>
            <td>
              <StateBadge state={r.status} /> <RollbackBadge status={r.rollbackStatus} />
            </td>
            <td>
              {r.stories.map((s) => (
                <Link key={s} to={`/apps/${app}/stories/${encodeURIComponent(s)}`} className="chip">
                  {s}
                </Link>
              ))}
            </td>
            <td>
              <Ago at={r.createdAt} /> by {r.createdBy}
            </td>
            <td>{r.finishedAt ? duration(r.createdAt, r.finishedAt) : 'running…'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
