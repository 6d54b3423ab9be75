/**
 * Typed errors with a stable code, an HTTP status and a CLI exit code.
 * One Fastify handler maps them; anything else is a bug and a logged 500.
 */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_NAME'
  | 'INVALID_MANIFEST'
  | 'NO_MANIFEST'
  | 'UNSAFE_ARCHIVE'
  | 'UPLOAD_TOO_LARGE'
  | 'APP_NOT_FOUND'
  | 'APP_EXISTS'
  | 'ENV_NOT_FOUND'
  | 'BUILD_NOT_FOUND'
  | 'BUILD_NOT_READY'
  | 'BUILD_FAILED'
  | 'RELEASE_NOT_FOUND'
  | 'DEPLOYMENT_NOT_FOUND'
  | 'PIPELINE_NOT_FOUND'
  | 'RUN_NOT_FOUND'
  | 'DEPLOYMENT_IN_PROGRESS'
  | 'STALE_PLAN'
  | 'NOTHING_TO_ROLL_BACK'
  | 'NOTHING_RUNS'
  | 'TEMPLATE_NOT_FOUND'
  | 'TEMPLATE_VERSION_EXISTS'
  | 'UPGRADE_NOT_FOUND'
  | 'COMPONENT_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'AGENT_UNAVAILABLE';

const STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  INVALID_NAME: 400,
  INVALID_MANIFEST: 422,
  NO_MANIFEST: 422,
  UNSAFE_ARCHIVE: 400,
  UPLOAD_TOO_LARGE: 413,
  APP_NOT_FOUND: 404,
  APP_EXISTS: 409,
  ENV_NOT_FOUND: 404,
  BUILD_NOT_FOUND: 404,
  BUILD_NOT_READY: 409,
  BUILD_FAILED: 422,
  RELEASE_NOT_FOUND: 404,
  DEPLOYMENT_NOT_FOUND: 404,
  PIPELINE_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  DEPLOYMENT_IN_PROGRESS: 409,
  /** The plan was made on another basis than the environment's now; `details.plan` is the new plan. */
  STALE_PLAN: 409,
  NOTHING_TO_ROLL_BACK: 409,
  NOTHING_RUNS: 409,
  TEMPLATE_NOT_FOUND: 404,
  TEMPLATE_VERSION_EXISTS: 409,
  UPGRADE_NOT_FOUND: 404,
  COMPONENT_NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  AGENT_UNAVAILABLE: 503,
};

export class RewindError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'RewindError';
    this.code = code;
    this.status = STATUS[code];
    this.details = details;
  }
  /** CLI exit code: 1 for user errors, 2 for conflicts and availability. */
  get exitCode(): number {
    return this.status === 409 || this.status === 503 ? 2 : 1;
  }
}

export const isRewindError = (e: unknown): e is RewindError => e instanceof RewindError;

export const notFound = {
  app: (app: string) => new RewindError('APP_NOT_FOUND', `app "${app}" does not exist; see "rewind apps" or create it with "rewind apps create ${app}"`),
  env: (app: string, env: string) => new RewindError('ENV_NOT_FOUND', `environment "${env}" does not exist in app "${app}"; see "rewind envs -a ${app}"`),
  build: (app: string, id: string) => new RewindError('BUILD_NOT_FOUND', `build ${id} does not exist in app "${app}"; see "rewind builds -a ${app}"`),
  release: (app: string, id: string) => new RewindError('RELEASE_NOT_FOUND', `release ${id} does not exist in app "${app}"; see "rewind releases -a ${app}"`),
  deployment: (id: string) => new RewindError('DEPLOYMENT_NOT_FOUND', `deployment ${id} does not exist`),
};
