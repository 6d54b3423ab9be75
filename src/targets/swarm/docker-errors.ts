/**
 * What a failed Docker Engine call becomes. Every message is one line naming the call and
 * Docker's own message: `docker: POST /services/create answered 400: …`. The engine maps
 * EngineConflictError to a 409, EngineNotFoundError to a 404, EngineUnavailableError to 503.
 */

/** The Engine answered with an error status. */
export class DockerEngineError extends Error {
  /** `METHOD /path` without the API version and query. */
  readonly call: string;
  readonly status: number;
  /** Docker's message, on one line. */
  readonly dockerMessage: string;
  constructor(call: string, status: number, dockerMessage: string) {
    super(`docker: ${call} answered ${status}: ${dockerMessage}`);
    this.name = 'DockerEngineError';
    this.call = call;
    this.status = status;
    this.dockerMessage = dockerMessage;
  }
}

/**
 * A concurrent change: `stale-version` when an update carried a spec version that is no longer the
 * service's ("update out of sequence"); `conflict` for Docker's other 409s (a service name taken).
 */
export class EngineConflictError extends DockerEngineError {
  readonly reason: 'stale-version' | 'conflict';
  constructor(call: string, status: number, dockerMessage: string, reason: 'stale-version' | 'conflict') {
    super(call, status, dockerMessage);
    this.name = 'EngineConflictError';
    this.reason = reason;
  }
}

/** No such service, task, node or image. */
export class EngineNotFoundError extends DockerEngineError {
  constructor(call: string, status: number, dockerMessage: string) {
    super(call, status, dockerMessage);
    this.name = 'EngineNotFoundError';
  }
}

/** Nothing answered at the docker host (no socket, refused, timed out). */
export class EngineUnavailableError extends Error {
  readonly call: string;
  readonly host: string;
  constructor(call: string, host: string, cause: string) {
    super(`docker: ${call} could not reach ${host} (${cause}); is the Docker daemon running there?`);
    this.name = 'EngineUnavailableError';
    this.call = call;
    this.host = host;
  }
}

const MAX_MESSAGE = 500;

/** Docker's `{ "message": "…" }`, or the raw text, on one line and bounded. */
export function dockerMessageOf(body: string): string {
  let message = body;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    /* not JSON: keep the text */
  }
  const line = message.replace(/\s+/g, ' ').trim() || '(no message)';
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/** The typed error for an Engine answer with status >= 400. */
export function engineError(call: string, status: number, body: string): DockerEngineError {
  const message = dockerMessageOf(body);
  if (/update out of sequence/i.test(message)) return new EngineConflictError(call, status, message, 'stale-version');
  if (status === 409) return new EngineConflictError(call, status, message, 'conflict');
  if (status === 404) return new EngineNotFoundError(call, status, message);
  return new DockerEngineError(call, status, message);
}
