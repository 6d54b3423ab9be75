/** One recorded change: who, what, when. */
export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly app: string | null;
  readonly env: string | null;
  readonly subject: string | null;
  /** free-form, per action */
  readonly detail: unknown;
}

/** A change to record: who did what to which app, environment and subject (the store adds id and time). */
export interface AuditInput {
  readonly actor: string;
  readonly action: string;
  readonly app?: string | null;
  readonly env?: string | null;
  readonly subject?: string | null;
  readonly detail?: unknown;
}
