import { exitCodeOf, isErrorCode, RewindError, rewindError } from '../domain/errors.js';

/** A failure found by the CLI itself (not an API error body), with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Not a failure of the CLI: the exit status to pass on (a command run by `rewind exec`), with nothing to print. */
export class ExitStatus extends Error {
  constructor(readonly exitCode: number) {
    super(`exit status ${exitCode}`);
    this.name = 'ExitStatus';
  }
}

/** An API error whose code this CLI does not know (a newer server, a 5xx, a proxy's page). */
export class ApiResponseError extends CliError {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message, exitCodeOf(status));
    this.name = 'ApiResponseError';
  }
}

/** Turns an error response (status + raw body) into a RewindError when its code is one of ours. */
export function errorFromResponse(status: number, body: string): RewindError | ApiResponseError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const err = (parsed as { error?: unknown } | undefined)?.error;
  if (err && typeof err === 'object') {
    const { code, message, details } = err as { code?: unknown; message?: unknown; details?: unknown };
    if (typeof code === 'string' && typeof message === 'string') {
      // A code of the catalog carries its status and exit code; an unknown one keeps the reply's status.
      if (isErrorCode(code)) return new RewindError(code, message, details);
      return new ApiResponseError(code, status, message, details);
    }
  }
  // Fastify's own shape ({ statusCode, error: 'Not Found', message }) or plain text.
  const message = (parsed as { message?: unknown } | undefined)?.message;
  const text = typeof message === 'string' ? message : body.trim().slice(0, 200) || 'no details';
  return new ApiResponseError(`HTTP_${status}`, status, `the server answered ${status}: ${text}`);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The network error code (`ECONNREFUSED`, …) of a failed request, looking inside wrappers. */
export function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  // Happy eyeballs (localhost → ::1 and 127.0.0.1) fails with an AggregateError.
  for (const inner of (err as { errors?: unknown[] }).errors ?? []) {
    const found = networkCode(inner, depth + 1);
    if (found) return found;
  }
  return networkCode((err as { cause?: unknown }).cause, depth + 1);
}

/** The server could not be reached at all: exit 2, and say how to start it. */
export class UnreachableError extends CliError {
  constructor(
    readonly host: string,
    readonly code: string,
  ) {
    super(`cannot reach the Rewind server at ${host}: ${code}; start it with "npm start" or "rewind server", or set REWIND_HOST`, 2);
    this.name = 'UnreachableError';
  }
}

export interface Failure {
  /** What goes to stderr: `error: …` (one line), plus the stack with --verbose. */
  readonly text: string;
  readonly exitCode: number;
}

/** The top-level catch's one line and exit code for any thrown value. */
export function describeFailure(err: unknown, verbose = false): Failure {
  const message = err instanceof Error ? err.message : String(err);
  // One line: a multi-line message (e.g. several manifest problems) is joined with "; ".
  const line = `error: ${
    message
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean)
      .join('; ') || 'unknown error'
  }`;
  const exitCode =
    err instanceof RewindError || err instanceof CliError
      ? err.exitCode
      : typeof (err as { exitCode?: unknown })?.exitCode === 'number'
        ? (err as { exitCode: number }).exitCode || 1
        : 1;
  const stack = verbose && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return { text: line + stack, exitCode };
}

/** Usage error: no app in -a or REWIND_APP. */
export const noApp = () => rewindError('NO_APP');
