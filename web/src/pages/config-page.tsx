import { useState, type FormEvent } from 'react';
import { rewind } from '../api/rewind';
import type { ReleaseChange } from '../api/types';
import { AppShell } from '../components/app-shell';
import { ErrorNote, Id, Loading } from '../components/primitives';
import { DeploymentLog } from '../components/deployment-log';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';
import { ConfigEditor, type Row } from '../components/config-editor';

/** View and edit an environment's variables; saving makes a release (and deploys it unless told not to). */
export function ConfigPage({ app }: { app: string }) {
  return (
    <AppShell app={app} title="Config" envPicker>
      {(_a, env) => <Config app={app} env={env} key={env} />}
    </AppShell>
  );
}

function Config({ app, env }: { app: string; env: string }) {
  const res = useResource(`config:${app}:${env}`, () => rewind.config(app, env), aboutApp(app));
  const [rows, setRows] = useState<Row[] | null>(null);
  const [deploy, setDeploy] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState<ReleaseChange | null>(null);
  const [busy, setBusy] = useState(false);
  if (res.error) return <ErrorNote error={res.error} action="load the config" />;
  if (!res.data) return <Loading what="config" />;
  const current = res.data.config;
  const editing = rows ?? Object.entries(current).map(([key, value]) => ({ key, value, removed: false, fresh: false }));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const set: Record<string, string> = {};
    const unset: string[] = [];
    for (const r of editing) {
      const key = r.key.trim();
      if (!key) continue;
      if (r.removed) {
        if (key in current) unset.push(key);
      } else if (current[key] !== r.value) set[key] = r.value;
    }
    if (!Object.keys(set).length && !unset.length) {
      setError(new Error('nothing changed: edit, add or remove a variable first'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const change = await rewind.setConfig(app, env, set, unset, deploy);
      setSaved(change);
      setRows(null);
      res.reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="config-form" onSubmit={save} aria-label={`Environment variables of ${env}`}>
      <p className="muted">
        Variables in effect in <strong>{env}</strong>
        {res.data.release && (
          <>
            {' '}
            (from release{' '}
            <Link to={`/apps/${app}/releases/${res.data.release}`}>
              <Id>{res.data.release}</Id>
            </Link>
            )
          </>
        )}
        . Saving makes a new release, like <code>rewind env set</code>.
      </p>
      <ConfigEditor rows={editing} onChange={setRows} />
      <div className="actions">
        <label className="check">
          <input type="checkbox" checked={deploy} onChange={(e) => setDeploy(e.target.checked)} /> Deploy the new release now
        </label>
        <button type="button" className="ghost" onClick={() => setRows(null)} disabled={!rows}>
          Discard changes
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save as a new release'}
        </button>
      </div>
      <ErrorNote error={error} action="save the config" />
      {saved && (
        <div className="outcome ok" role="status">
          Saved as release{' '}
          <Link to={`/apps/${app}/releases/${saved.release.id}`}>
            <Id>{saved.release.id}</Id>
          </Link>{' '}
          ({saved.release.description}){saved.deployment ? ', deploying it:' : ', not deployed.'}
        </div>
      )}
      {saved?.deployment && <DeploymentLog id={saved.deployment.id} />}
    </form>
  );
}
