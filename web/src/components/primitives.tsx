/** The small display pieces every page uses: errors, loading and empty states, badges, times, ids, commands, descriptions. */
import type { ReactNode } from 'react';
import { ApiFailure } from '../api/client';
import { ago, ownDescription, when } from '../lib/format';

/** An API error in words (role=alert, so screen readers announce it). */
export function ErrorNote({ error, action }: { error: Error | null | undefined; action?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{action ? `Could not ${action}: ` : 'Error: '}</strong>
      {error.message}
      {error instanceof ApiFailure && error.status === 401 && (
        <>
          {' '}
          Log in with <em>Log in</em> at the top right, or open the link <code>npx rewind console</code> prints.
        </>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2 className="empty-title">{title}</h2>
      {children}
    </div>
  );
}

/** A coloured label for a status: active, healthy, failed, rolled back… */
export function Badge({ tone, children, title }: { tone: string; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone.replace(/\s+/g, '-')}`} title={title}>
      {children}
    </span>
  );
}

const HEALTH_TONE: Record<string, string> = { healthy: 'ok', unhealthy: 'bad', deploying: 'busy', empty: 'idle', unknown: 'warn' };
export const Health = ({ health }: { health: string }) => <Badge tone={HEALTH_TONE[health] ?? 'idle'}>{health}</Badge>;

const STATE_TONE: Record<string, string> = {
  succeeded: 'ok',
  failed: 'bad',
  'rolled-back': 'warn',
  running: 'busy',
  pending: 'busy',
  waiting: 'busy',
  cancelled: 'idle',
  skipped: 'idle',
};
export const StateBadge = ({ state }: { state: string }) => <Badge tone={STATE_TONE[state] ?? 'idle'}>{state}</Badge>;

/** "3 minutes ago", with the exact time on hover. */
export const Ago = ({ at }: { at: string | null | undefined }) => (
  <time dateTime={at ?? undefined} title={when(at)}>
    {ago(at)}
  </time>
);

export const Id = ({ children }: { children: ReactNode }) => <code className="id">{children}</code>;

export function Command({ children }: { children: string }) {
  return <pre className="command">{children}</pre>;
}

/** A description as a user reads it: a release or build sent without one says "no description". */
export function Desc({ text }: { text: string | null | undefined }) {
  const own = ownDescription(text);
  return own ? <span className="desc">{own}</span> : <span className="desc muted">no description</span>;
}
