import { useState } from 'react';
import { pipelines } from '../api/pipelines';
import type { PipelineRunView } from '../api/types';
import { ErrorNote, Id } from './bits';
import { Modal } from './modal';

/** The seed's confirmation pop-up: what a run's rollback will restore, and what it cannot. */
export function RunRollbackDialog({ run, onClose, onStarted }: { run: PipelineRunView; onClose: () => void; onStarted: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const deploys = run.tasks.filter((t) => t.kind === 'deploy' && (t.status !== 'pending' || t.backupRelease));
  const restorable = deploys.filter((t) => t.backupRelease).reverse();
  const missing = deploys.filter((t) => !t.backupRelease);
  const moving = run.status === 'running' || run.status === 'waiting';
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await pipelines.rollback(run.id, reason.trim() || undefined);
      onStarted();
    } catch (e) {
      setError(e as Error);
      setBusy(false);
    }
  };
  const footer = (
    <>
      <button type="button" onClick={onClose}>
        No
      </button>
      <button type="button" className="primary" onClick={confirm} disabled={busy} autoFocus>
        {busy ? 'Starting…' : 'Yes, roll back'}
      </button>
    </>
  );
  return (
    <Modal title={`Roll back run ${run.id}`} onClose={onClose} footer={footer}>
      <p>
        {moving ? 'The run is still going: its pending and running tasks are cancelled first. ' : ''}
        Rewind then restores, in reverse order, the backup each deploy task took before deploying, with zero-downtime deployments.
      </p>
      {restorable.length > 0 ? (
        <ul className="plain-list" aria-label="Will be restored">
          {restorable.map((t) => (
            <li key={t.index}>
              <strong>{t.name}</strong>: restore backup <Id>{t.backupRelease}</Id> in {String((t.options as { env?: string })?.env ?? '')}
            </li>
          ))}
        </ul>
      ) : (
        <p className="warn-note">No deploy task of this run took a backup: nothing can be restored.</p>
      )}
      {missing.length > 0 && (
        <p className="muted small">
          Not rolled back (Enable Rollback was off): {missing.map((t) => t.name).join(', ')}.
        </p>
      )}
      <label className="field">
        Reason (optional, kept in the run and the audit log)
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="checkout errors after the deploy" />
      </label>
      <ErrorNote error={error} action="roll the run back" />
    </Modal>
  );
}
