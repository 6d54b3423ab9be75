import { Type } from '@sinclair/typebox';
import { Nullable, type View } from './common.js';

/** The audit log and its live change events. */

export const AuditEntryView = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  app: Nullable(Type.String()),
  env: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  detail: Type.Unknown({ description: 'free-form, per action' }),
});
export type AuditEntryView = View<typeof AuditEntryView>;

/** One `change` event of GET /api/events: the audit entry just recorded. */
export const ChangeEvent = Type.Object({
  action: Type.String({ description: 'e.g. app.create, build.create, release.create, deployment.rollback, deployment.succeeded, deployment.failed' }),
  app: Nullable(Type.String()),
  env: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  actor: Type.String(),
  at: Type.String(),
});
export type ChangeEvent = View<typeof ChangeEvent>;

export const AuditQuery = Type.Object({ app: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }) });
