import { rewind } from '../api/rewind';
import type { AuditEntryView } from '../api/types';
import { aboutApp, useResource } from '../lib/live';
import { Ago, Empty, ErrorNote, Loading } from './primitives';

function sentence(e: AuditEntryView): string {
  const where = e.env ? ` in ${e.env}` : '';
  const what = e.action.replace(/[._]/g, ' ');
  return `${what}${e.subject ? ` ${e.subject}` : ''}${where}`;
}

/** The audit log as sentences: who did what, where and when. */
export function ActivityList({ app, limit = 50 }: { app: string; limit?: number }) {
  const res = useResource(`audit:${app}:${limit}`, () => rewind.audit(app, limit), aboutApp(app));
  if (res.error) return <ErrorNote error={res.error} action="load the activity" />;
  if (!res.data) return <Loading what="activity" />;
  if (res.data.length === 0) return <Empty title="No activity yet" />;
  return (
    <ol className="activity">
      {res.data.map((e) => (
        <li key={e.id}>
          <span className="who">{e.actor}</span> <span className="what">{sentence(e)}</span> <Ago at={e.at} />
          {detailText(e.detail) && <span className="detail"> — {detailText(e.detail)}</span>}
        </li>
      ))}
    </ol>
  );
}

function detailText(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  const d = detail as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ['description', 'from', 'to', 'reason', 'error'])
    if (typeof d[k] === 'string' && d[k]) parts.push(k === 'description' ? String(d[k]) : `${k} ${d[k]}`);
  return parts.join(', ');
}
