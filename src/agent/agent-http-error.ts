/** An error the API answers with `{ error: { code, message } }` and this status. */
export class AgentHttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
