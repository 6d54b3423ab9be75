import { useEffect, useRef, useState } from 'react';
import { ApiFailure } from '../api/client';
import { pipelines } from '../api/pipelines';
import type { PipelineRunView, RunRollbackPlanView } from '../api/types';
import { useLive } from '../lib/live';
import { ErrorNote, Id, Loading } from './primitives';
import { Modal } from './modal';
import { PlanTable } from './plan-table';

/**
 * The seed's confirmation pop-up: what a run's rollback will restore, and what it cannot. Per task
 * it shows the plan from what is live now to the backup (the server's dry run), warns when an
 * environment was changed after the run, follows the app's changes while open, and sends the plan's
 * basis, so that a rollback planned on another state is refused (and the new plan shown).
 */
export function RunRollbackDialog({ run, onClose, onStarted }: { run: PipelineRunView; onClose: () => void; onStarted: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [plan, setPlan] = useState<RunRollbackPlanView | null>(null);
  const [planError, setPlanError] = useState<Error | null>(null);
  const [updated, setUpdated] = useState<string | null>(null);
  const busyRef = useRef(busy);
  busyRef.current = busy;
  const planRef = useRef(plan);
  planRef.current = plan;

  useEffect(() => {
    pipelines.rollbackPlan(run.id).then(setPlan, setPlanError);
  }, [run.id]);

  // While open, the plan follows the app: any change is planned again before a confirmation.
  const { version, last } = useLive();
  const seen = useRef(version);
  useEffect(() => {
    if (version === seen.current) return;
    seen.current = version;
    if (busyRef.current || (last && last.app !== null && last.app !== run.app)) return;
    const t = setTimeout(() => {
      pipelines.rollbackPlan(run.id).then((next) => {
        if (busyRef.current) return;
        const before = planRef.current;
        if (before && JSON.stringify(before.tasks) !== JSON.stringify(next.tasks)) {
          setUpdated(`The plan was updated: ${last ? `${last.env ?? run.app} changed (${last.action} by ${last.actor})` : 'the app changed'}.`);
        }
        setPlan(next);
        setPlanError(null);
      }, setPlanError);
    }, 150);
    return () => clearTimeout(t);
  }, [version, last]);

  const moving = run.status === 'running' || run.status === 'waiting';
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await pipelines.rollback(run.id, reason.trim() || undefined, plan?.basis);
      onStarted();
    } catch (e) {
      const fresh = e instanceof ApiFailure ? e.stalePlan<RunRollbackPlanView>() : undefined;
      if (fresh) {
        setPlan(fresh);
        setUpdated('Nothing was done: an environment changed since this plan was made. This is the new plan; confirm it to carry it out.');
      }
      setError(e as Error);
      setBusy(false);
    }
  };
  const footer = (
    <>
      <button type="button" onClick={onClose}>
        No
      </button>
      <button type="button" className="primary" onClick={confirm} disabled={busy || !plan} autoFocus>
        {busy ? 'Starting…' : 'Yes, roll back'}
      </button>
    </>
  );
  const restorable = plan?.tasks.filter((t) => t.plan) ?? [];
  const missing = plan?.tasks.filter((t) => !t.plan) ?? [];
  return (
    <Modal title={`Roll back run ${run.id}`} onClose={onClose} footer={footer} wide>
      <p>
        {moving ? 'The run is still going: its pending and running tasks are cancelled first. ' : ''}
        Rewind then restores, in reverse order, the backup each deploy task took before deploying, with zero-downtime deployments.
      </p>
      {!plan && !planError && <Loading what="the plan" />}
      <ErrorNote error={planError} action="compute the plan" />
      {plan && (
        <>
          {updated && (
            <p className="warn-note" role="status">
              {updated}
            </p>
          )}
          {plan.warnings.map((w) => (
            <p className="warn-note" key={w}>
              {w}
            </p>
          ))}
          {restorable.length > 0 ? (
            <ul className="plain-list" aria-label="Will be restored">
              {restorable.map((t) => (
                <li key={t.index}>
                  <strong>{t.name}</strong>: {t.action === 'stage' ? 'stage' : 'restore'} backup <Id>{t.backup}</Id> in {t.env}
                  {t.plan && <PlanTable plan={t.plan} caption={`What task ${t.index + 1} (${t.name}) changes in ${t.env}`} />}
                </li>
              ))}
            </ul>
          ) : (
            <p className="warn-note">No deploy task of this run has a backup left to restore: nothing can be restored.</p>
          )}
          {missing.length > 0 && <p className="muted small">Not rolled back: {missing.map((t) => `${t.name} (${t.why ?? t.action})`).join(', ')}.</p>}
        </>
      )}
      <label className="field">
        Reason (optional, kept in the run and the audit log)
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="checkout errors after the deploy" />
      </label>
      <ErrorNote error={error} action="roll the run back" />
    </Modal>
  );
}
