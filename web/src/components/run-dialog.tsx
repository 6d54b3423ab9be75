import { useState, type FormEvent } from 'react';
import { pipelines } from '../api/pipelines';
import { rewind } from '../api/rewind';
import { isBackupBuild, ownDescription } from '../lib/format';
import { useResource } from '../lib/live';
import { navigate } from '../lib/router';
import { ErrorNote } from './primitives';
import { Modal } from './modal';

/** Starts a run of a pipeline with an existing build and the stories it delivers, then opens its activity. */
export function RunDialog({ app, pipeline, onClose }: { app: string; pipeline: string; onClose: () => void }) {
  const builds = useResource(`builds:${app}:run`, () => rewind.builds(app, 50));
  // Backups (the live files captured before a deploy) are builds too, but not what one ships: hidden unless asked for.
  const [showBackups, setShowBackups] = useState(false);
  const all = (builds.data ?? []).filter((b) => b.status === 'succeeded');
  const backups = all.filter(isBackupBuild).length;
  const succeeded = showBackups ? all : all.filter((b) => !isBackupBuild(b));
  const [build, setBuild] = useState('');
  const [stories, setStories] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const ids = stories.split(/[\s,]+/).filter(Boolean);
      const run = await pipelines.start(app, pipeline, { stories: ids, ...(build || succeeded[0] ? { build: build || succeeded[0].id } : {}) });
      navigate(`/apps/${app}/pipelines/runs/${run.id}`);
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };
  const footer = (
    <>
      <button type="button" onClick={onClose}>
        Cancel
      </button>
      <button type="button" className="primary" onClick={() => void submit()} disabled={busy}>
        {busy ? 'Starting…' : 'Start the run'}
      </button>
    </>
  );
  return (
    <Modal title={`Run ${pipeline}`} onClose={onClose} footer={footer}>
      <form onSubmit={submit} className="stack">
        <label className="field">
          Build
          <select value={build || succeeded[0]?.id || ''} onChange={(e) => setBuild(e.target.value)}>
            {succeeded.map((b) => (
              <option key={b.id} value={b.id}>
                {b.id} — {ownDescription(b.description) || 'no description'}
              </option>
            ))}
            {succeeded.length === 0 && <option value="">no build yet</option>}
          </select>
        </label>
        {backups > 0 && (
          <label className="check">
            <input type="checkbox" checked={showBackups} onChange={(e) => setShowBackups(e.target.checked)} /> Show backups ({backups})
          </label>
        )}
        <label className="field">
          Stories (work items this run delivers, separated by commas)
          <input value={stories} onChange={(e) => setStories(e.target.value)} placeholder="US-42, BUG-7" />
        </label>
        <p className="muted small">
          From a terminal,{' '}
          <code>
            rewind pipelines run {pipeline} -a {app} DIR --story ID
          </code>{' '}
          builds a source folder first.
        </p>
      </form>
      <ErrorNote error={error} action="start the run" />
    </Modal>
  );
}
