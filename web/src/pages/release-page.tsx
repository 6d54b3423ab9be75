import { useState } from 'react';
import { rewind } from '../api/rewind';
import type { ReleaseView } from '../api/types';
import { ActionFor, type Action } from '../components/actions';
import { AppShell } from '../components/app-shell';
import { Ago, Badge, ErrorNote, Id, Loading } from '../components/primitives';
import { ConfigTable } from '../components/config-table';
import { DiffView } from '../components/diff-view';
import { ownDescription, when } from '../lib/format';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';

/** One release: builds, config (masked), description, who and when, and a diff against any other release. */
export function ReleasePage({ app, id }: { app: string; id: string }) {
  return (
    <AppShell app={app} title={id}>
      {() => <ReleaseDetail app={app} id={id} />}
    </AppShell>
  );
}

function ReleaseDetail({ app, id }: { app: string; id: string }) {
  const rel = useResource(`release:${app}:${id}`, () => rewind.release(app, id), aboutApp(app));
  const r = rel.data;
  const others = useResource(`releases:${app}:${r?.env}`, () => (r ? rewind.releases(app, r.env, 100) : Promise.resolve([])), aboutApp(app));
  const [action, setAction] = useState<Action | null>(null);
  if (!r) return rel.error ? <ErrorNote error={rel.error} action={`load release ${id}`} /> : <Loading what={`release ${id}`} />;
  const list = others.data ?? [];
  const active = list.find((x) => x.status === 'active');
  const at = list.findIndex((x) => x.id === r.id);
  const older = !active || at < 0 || at > list.indexOf(active);
  const q = r.env === 'production' ? '' : `?env=${encodeURIComponent(r.env)}`;
  return (
    <>
      <div className="page-head">
        <h2 className="release-title">
          Release <Id>{r.id}</Id> {r.status === 'active' && <Badge tone="active">active</Badge>}
          {r.status === 'rolled back' && <Badge tone="warn">rolled back</Badge>}
        </h2>
        {r.status === 'active' && (
          <div className="actions">
            <button type="button" onClick={() => setAction({ kind: 'previous', release: r })}>
              Roll back to previous release
            </button>
          </div>
        )}
        {r.status !== 'active' && (
          <div className="actions">
            {older && (
              <button type="button" onClick={() => setAction({ kind: 'rollback', release: r })}>
                Rollback to {r.id}
              </button>
            )}
            <button type="button" onClick={() => setAction({ kind: 'promote', release: r })}>
              Promote {r.id}
            </button>
            {older && (
              <button type="button" className="ghost" onClick={() => setAction({ kind: 'revert', release: r })}>
                Revert only its changes
              </button>
            )}
          </div>
        )}
      </div>
      <dl className="facts wide">
        <dt>Description</dt>
        <dd>{ownDescription(r.description) || <span className="muted">no description</span>}</dd>
        <dt>Environment</dt>
        <dd>
          <Link to={`/apps/${app}/releases${q}`}>{r.env}</Link>
        </dd>
        <dt>Kind</dt>
        <dd>
          <Badge tone="kind">{r.kind}</Badge>
          {r.source && (
            <>
              {' '}
              copy of{' '}
              <Link to={`/apps/${app}/releases/${r.source}${q}`}>
                <Id>{r.source}</Id>
              </Link>
            </>
          )}
        </dd>
        <dt>Created</dt>
        <dd>
          <Ago at={r.createdAt} /> ({when(r.createdAt)}) by {r.createdBy}
        </dd>
      </dl>
      <section className="section two-col">
        <Builds release={r} />
        <div>
          <h3>Config</h3>
          <ConfigTable config={r.config} caption={`Variables of ${r.id}`} hideCaption />
        </div>
      </section>
      <section className="section">
        <h3>Diff</h3>
        <DiffView release={r} others={list} />
      </section>
      {action && <ActionFor app={app} env={r.env} action={action} onClose={() => setAction(null)} />}
    </>
  );
}

function Builds({ release }: { release: ReleaseView }) {
  const entries = Object.entries(release.builds);
  return (
    <div>
      <h3>Builds</h3>
      <table className="table compact">
        <caption className="sr-only">Build of each component</caption>
        <tbody>
          {entries.map(([component, build]) => (
            <tr key={component}>
              <th scope="row">{component}</th>
              <td>
                <Link to={`/apps/${release.app}/builds/${build}`}>
                  <Id>{build}</Id>
                </Link>
              </td>
            </tr>
          ))}
          {entries.length === 0 && (
            <tr>
              <td className="muted">No components: this release runs nothing.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
