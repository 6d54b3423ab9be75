import { taskOptions } from '../api/pipelines';
import type { PipelineTaskView } from '../api/types';
import { duration } from '../lib/format';
import { Link } from '../lib/router';
import { Id, StateBadge } from './primitives';
import { RollbackBadge } from './run-table';

/**
 * Each task of a run in order: status, timing, its deployment and backup, and (deploy tasks)
 * rollback status. `onRollback`, when the run can be rolled back, puts Rollback in the section of
 * each deploy task that took a backup, as the CPI tool offers it there.
 */
export function RunTasks({ app, tasks, onRollback }: { app: string; tasks: readonly PipelineTaskView[]; onRollback?: () => void }) {
  return (
    <ol className="tasks" aria-label="Tasks">
      {tasks.map((t) => (
        <li key={t.index} className={`task task-${t.status}`} data-task={t.name}>
          <div className="task-head">
            <span className="task-index" aria-hidden="true">
              {t.index + 1}
            </span>
            <strong>{t.name}</strong>
            <span className="muted small">
              {t.kind !== t.name ? t.kind : ''} {taskOptions(t.kind, t.options)}
            </span>
            <span className="grow" />
            <StateBadge state={t.status} />
          </div>
          <div className="task-meta muted small">
            {t.startedAt && <span>{t.finishedAt ? `took ${duration(t.startedAt, t.finishedAt)}` : 'running…'}</span>}
            {t.build && (
              <span>
                build{' '}
                <Link to={`/apps/${app}/builds/${t.build}`}>
                  <Id>{t.build}</Id>
                </Link>
              </span>
            )}
            {t.release && (
              <span>
                release{' '}
                <Link to={`/apps/${app}/releases/${t.release}`}>
                  <Id>{t.release}</Id>
                </Link>
              </span>
            )}
            {t.deployment && (
              <span>
                deployment{' '}
                <Link to={`/apps/${app}/deployments/${t.deployment}`}>
                  <Id>{t.deployment}</Id>
                </Link>
              </span>
            )}
            {t.backupRelease && (
              <span>
                backup{' '}
                <Link to={`/apps/${app}/releases/${t.backupRelease}`}>
                  <Id>{t.backupRelease}</Id>
                </Link>
              </span>
            )}
          </div>
          {t.kind === 'deploy' && (
            <div className="task-rollback small" aria-label={`Rollback status of ${t.name}`}>
              Rollback: {t.rollbackStatus === 'none' ? <span className="muted">none</span> : <RollbackBadge status={t.rollbackStatus} />}
              {t.rollbackDeployment && (
                <>
                  {' '}
                  <Link to={`/apps/${app}/deployments/${t.rollbackDeployment}`}>
                    <Id>{t.rollbackDeployment}</Id>
                  </Link>
                </>
              )}
              {onRollback && t.backupRelease && (
                <>
                  {' '}
                  <button
                    type="button"
                    className="danger small"
                    onClick={onRollback}
                    aria-label={`Rollback run from task ${t.name}`}
                    aria-describedby={`task-${t.index}-rollback-what`}
                  >
                    Rollback
                  </button>
                  <span id={`task-${t.index}-rollback-what`} className="sr-only">
                    rolls back the whole run, restoring the backup of every deploy task
                  </span>
                </>
              )}
            </div>
          )}
          {t.error && <p className="warn-note small">{t.error}</p>}
        </li>
      ))}
    </ol>
  );
}
