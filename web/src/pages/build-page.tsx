import { rewind } from '../api/rewind';
import { AppShell } from '../components/app-shell';
import { Ago, ErrorNote, Id, Loading, StateBadge } from '../components/primitives';
import { TextStream } from '../components/text-stream';
import { duration } from '../lib/format';
import { aboutApp, useResource } from '../lib/live';
import { Link } from '../lib/router';

/** One build: status, description, components, the release it made, and its output (live while it runs). */
export function BuildPage({ app, id }: { app: string; id: string }) {
  const res = useResource(`build:${app}:${id}`, () => rewind.build(app, id), aboutApp(app));
  const b = res.data;
  return (
    <AppShell app={app} title={id}>
      {() => (
        <>
          <ErrorNote error={res.error} action={`load build ${id}`} />
          {!b && !res.error && <Loading what={`build ${id}`} />}
          {b && (
            <>
              <h2>
                Build <Id>{b.id}</Id> <StateBadge state={b.status} />
              </h2>
              <dl className="facts wide">
                <dt>Description</dt>
                <dd>{b.description || '—'}</dd>
                <dt>Components</dt>
                <dd>
                  {b.components.map((c) => (
                    <Link key={c} to={`/apps/${app}/components/${c}`} className="chip">
                      {c}
                    </Link>
                  ))}
                </dd>
                <dt>Release</dt>
                <dd>
                  {b.release ? (
                    <Link to={`/apps/${app}/releases/${b.release}`}>
                      <Id>{b.release}</Id>
                    </Link>
                  ) : (
                    '—'
                  )}
                </dd>
                <dt>Created</dt>
                <dd>
                  <Ago at={b.createdAt} /> by {b.createdBy}
                  {b.finishedAt && `, took ${duration(b.createdAt, b.finishedAt)}`}
                </dd>
                <dt>Source</dt>
                <dd>
                  <code className="small">sha256 {b.sourceSha256.slice(0, 16)}…</code>
                </dd>
              </dl>
              {b.error && (
                <p className="warn-note" role="alert">
                  {b.error}
                </p>
              )}
              <h3>Output</h3>
              <TextStream key={b.status} path={`/api/apps/${encodeURIComponent(app)}/builds/${encodeURIComponent(id)}/logs?follow=true`} label="Build output" />
            </>
          )}
        </>
      )}
    </AppShell>
  );
}
