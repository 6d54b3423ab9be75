import type { AuditEntry, AuditInput } from '../domain/audit.js';
import type { Db } from './db.js';

export type { AuditInput };

/** Append-only log of every change: who, what, when. */
export class AuditRepo {
  private readonly listeners = new Set<(e: AuditInput & { at: string }) => void>();

  constructor(private readonly db: Db) {}

  /** Every recorded change is also announced to listeners (the API's live /api/events stream). */
  onRecord(listener: (e: AuditInput & { at: string }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async record(e: AuditInput, at = new Date().toISOString()): Promise<void> {
    await this.insert(e, at);
    this.announce(e, at);
  }

  /** Records `e` as part of transaction `db`; call announce() once it has committed. */
  async insert(e: AuditInput, at: string, db: Db = this.db): Promise<void> {
    await db
      .insertInto('audit')
      .values({
        at,
        actor: e.actor,
        action: e.action,
        app: e.app ?? null,
        env: e.env ?? null,
        subject: e.subject ?? null,
        detail: e.detail === undefined ? null : JSON.stringify(e.detail),
      })
      .execute();
  }

  announce(e: AuditInput, at: string): void {
    for (const l of this.listeners) l({ ...e, at });
  }

  async has(action: string, subject: string): Promise<boolean> {
    const r = await this.db.selectFrom('audit').select('id').where('action', '=', action).where('subject', '=', subject).executeTakeFirst();
    return r !== undefined;
  }

  async list(filter: { app?: string; limit?: number }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit').selectAll();
    if (filter.app) q = q.where('app', '=', filter.app);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 50)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      app: r.app,
      env: r.env,
      subject: r.subject,
      detail: r.detail === null ? null : JSON.parse(r.detail),
    }));
  }
}
