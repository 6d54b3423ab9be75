import { useEffect, useRef, useState } from 'react';
import { pipelines } from '../api/pipelines';
import { readSse } from '../api/sse';
import type { PipelineLogView, PipelineRunView } from '../api/types';
import { clock } from '../lib/format';

/**
 * A run's log lines as they come (GET …/events: past lines first, then live), split into the run's
 * section and, only when a rollback was triggered, its rollback section. `generation` restarts the
 * stream (a rollback started after the run had ended).
 */
export function useRunLog(id: string, generation: string, onProgress: () => void): { lines: PipelineLogView[]; error: Error | null } {
  const [lines, setLines] = useState<PipelineLogView[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const progress = useRef(onProgress);
  progress.current = onProgress;
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poke = () => {
      clearTimeout(timer);
      timer = setTimeout(() => progress.current(), 150);
    };
    setError(null);
    readSse(
      pipelines.eventsPath(id),
      (event, data) => {
        if (event === 'log') {
          const line = JSON.parse(data) as PipelineLogView;
          setLines((ls) => (ls.some((l) => l.seq === line.seq) ? ls : [...ls, line]));
        }
        poke();
      },
      ac.signal,
    ).catch((e: Error) => !ac.signal.aborted && setError(e));
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, [id, generation]);
  return { lines, error };
}

export function LogLines({ lines, label }: { lines: readonly PipelineLogView[]; label: string }) {
  return (
    <ol className="log" aria-label={label} aria-live="polite">
      {lines.map((l) => (
        <li key={l.seq}>
          <time dateTime={l.at}>{clock(l.at)}</time> {l.message}
        </li>
      ))}
      {lines.length === 0 && <li className="muted">No lines yet.</li>}
    </ol>
  );
}

/** The rollback section: shown only when the run was rolled back (the seed's "rollback logs"). */
export function RollbackSection({ run, lines }: { run: PipelineRunView; lines: readonly PipelineLogView[] }) {
  if (!run.rollback) return null;
  const streamed = lines.filter((l) => l.section === 'rollback');
  const all = streamed.length >= run.rollback.logs.length ? streamed : run.rollback.logs;
  return (
    <section className="section" aria-labelledby="rollback-title">
      <h2 id="rollback-title">Rollback</h2>
      <p>
        Status: <strong>{run.rollback.status}</strong>
        {run.rollback.reason && <> — {run.rollback.reason}</>}
      </p>
      <LogLines lines={all} label="Rollback log" />
    </section>
  );
}
