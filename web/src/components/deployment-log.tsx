import { useEffect, useRef, useState } from 'react';
import { readSse } from '../api/sse';
import type { DeploymentEventView, DeploymentView } from '../api/types';
import { clock } from '../lib/format';
import { ErrorNote, StateBadge } from './primitives';

/**
 * A deployment's step log, streamed live from /api/deployments/:id/events (past steps first),
 * ending with its outcome. Works the same for a running deployment and a finished one.
 */
export function DeploymentLog({ id, onEnd }: { id: string; onEnd?: (d: DeploymentView) => void }) {
  const [steps, setSteps] = useState<DeploymentEventView[]>([]);
  const [end, setEnd] = useState<DeploymentView | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;
  const box = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const ac = new AbortController();
    setSteps([]);
    setEnd(null);
    setError(null);
    readSse(
      `/api/deployments/${encodeURIComponent(id)}/events`,
      (event, data) => {
        if (event === 'step') setSteps((s) => [...s, JSON.parse(data) as DeploymentEventView]);
        if (event === 'end') {
          const d = JSON.parse(data) as DeploymentView;
          setEnd(d);
          onEndRef.current?.(d);
        }
      },
      ac.signal,
    ).catch((e: Error) => !ac.signal.aborted && setError(e));
    return () => ac.abort();
  }, [id]);

  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [steps.length]);

  return (
    <section className="deploy-log" aria-label={`Log of deployment ${id}`}>
      <div className="log-head">
        <span>
          Deployment <code>{id}</code>
        </span>
        {end ? <StateBadge state={end.state} /> : <span className="live-dot">streaming</span>}
      </div>
      <ol className="log" ref={box} aria-live="polite" aria-label="Deployment log">
        {steps.map((s) => (
          <li key={s.seq}>
            <time dateTime={s.at}>{clock(s.at)}</time> {s.message}
          </li>
        ))}
        {steps.length === 0 && !end && <li className="muted">Waiting for the first step…</li>}
      </ol>
      {end?.error && (
        <p className={end.state === 'succeeded' ? 'note' : 'warn-note'}>
          <strong>{end.state === 'rolled-back' ? 'Rolled back automatically: ' : end.state === 'failed' ? 'Failed: ' : ''}</strong>
          {end.error}
        </p>
      )}
      <ErrorNote error={error} action="stream the deployment log" />
    </section>
  );
}
