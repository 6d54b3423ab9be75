/**
 * Typed errors with a stable code, an HTTP status and a CLI exit code, all from one catalog (as
 * Fastify's `lib/errors.js` does): one entry per code, with its status, exit code, what it means
 * and, where the message always has the same shape, its message template. One Fastify handler maps
 * them; anything else is a bug and a logged 500. docs/errors.md and /api/openapi.json list the catalog.
 */

/** One code of the catalog. `cli`: only the CLI raises it (it never comes from the API). */
export interface ErrorSpec {
  readonly status: number;
  /** 1 for user errors, 2 for conflicts and availability (the status is 409 or 503). */
  readonly exit: 1 | 2;
  readonly description: string;
  readonly cli?: true;
  /** The message, when it always has the same shape. */
  readonly message?: (...args: never[]) => string;
}

const user = (status: number, description: string) => ({ status, exit: 1, description }) as const;
const conflict = (status: 409 | 503, description: string) => ({ status, exit: 2, description }) as const;
const cliOnly = (description: string) => ({ status: 400, exit: 1, description, cli: true }) as const;

export const ERRORS = {
  // The request as a whole (the HTTP layer).
  INVALID_INPUT: user(400, 'the request does not match its schema (body, querystring or path); the message names the field'),
  INVALID_JSON: {
    ...user(400, 'the request body is not JSON'),
    message: (reason: string) => `the request body is not valid JSON (${reason}); send a JSON object`,
  },
  BAD_REQUEST: user(400, 'a request the HTTP layer refused before its route (not valid HTTP, a bad Content-Length, …); the status may be another 4xx'),
  UNSUPPORTED_MEDIA_TYPE: user(415, 'the body has a content type the route does not take (JSON, or a gzip tarball for uploads)'),
  HEADERS_TOO_LARGE: user(431, 'the request line and headers are over the size limit'),
  REQUEST_TIMEOUT: user(408, 'the request did not arrive in time'),
  UNAUTHORIZED: user(401, 'no credential, or one this server did not make'),
  CROSS_ORIGIN: user(403, 'a change that does not come from the pages of the server'),
  MISDIRECTED_REQUEST: user(421, 'a Host header the server does not answer to'),
  NO_CREDENTIALS: conflict(409, 'a login to a server that runs with --insecure-no-auth'),
  NOT_FOUND: {
    ...user(404, 'no route has that path'),
    message: (method: string, path: string) => `no such route: ${method} ${path}; see /api/openapi.json`,
  },
  METHOD_NOT_ALLOWED: {
    ...user(405, 'the path has routes, but not for that method (the Allow header lists them)'),
    message: (method: string, path: string, allowed: string) => `${method} is not allowed on ${path}; it answers ${allowed}`,
  },
  INTERNAL: {
    ...user(500, 'a bug in Rewind; the server log has the details'),
    message: () => 'internal error (a bug in Rewind); the server log has the details',
  },
  // Names, values and definitions.
  INVALID_NAME: user(400, 'a name (app, environment, template, component) that breaks the naming rule'),
  INVALID_VERSION: user(400, 'a template version that is not letters, digits, dots, dashes or underscores'),
  INVALID_STORY_ID: user(400, 'a story id that is not letters, digits, . _ # -'),
  INVALID_BUILD_ID: user(400, 'a build id that is not B followed by 10 letters'),
  INVALID_DIGEST: user(400, 'an artifact digest that is not a sha256'),
  INVALID_KEY_VALUE: user(400, 'an assignment that is not KEY=VALUE'),
  INVALID_CONFIG: user(400, 'a config change that sets a bad name or unsets a variable that is not set'),
  INVALID_SETTING: user(400, 'an environment setting with an unknown name or a value out of range'),
  INVALID_PIPELINE: user(400, 'a pipeline definition with problems (details.errors lists them)'),
  INVALID_RUN_REQUEST: user(400, 'a pipeline run request that is not {"stories": [...], "build": "B…"} or a source tarball'),
  INVALID_BASIS: user(400, 'a basis that does not cover the change or names an unknown release; send plan.basis of the dry run'),
  CONFLICTING_OPTIONS: user(400, 'two options that exclude each other (a release and --component, --after and --before)'),
  // Manifests and uploads.
  INVALID_MANIFEST: user(422, 'the manifest has problems (each with its line)'),
  NO_MANIFEST: user(422, 'the source has no rewind.yml, convox.yml or Procfile'),
  NO_COMPONENT_MANIFEST: user(400, 'a backup of a component Rewind has no manifest for'),
  UNSAFE_ARCHIVE: user(400, 'an upload with an entry outside its folder, a link out, or a file type Rewind refuses'),
  INVALID_ARCHIVE: user(400, 'an upload that is not a .tar.gz (not gzip, compressed twice, or corrupt)'),
  UPLOAD_TOO_LARGE: user(413, 'an upload or body over a limit (bytes, entries, unpack ratio)'),
  UPLOAD_INTERRUPTED: user(400, 'the upload ended before its last byte'),
  EMPTY_UPLOAD: user(400, 'an empty upload'),
  // What exists.
  APP_NOT_FOUND: {
    ...user(404, 'the app does not exist'),
    message: (app: string) => `app "${app}" does not exist; see "rewind apps" or create it with "rewind apps create ${app}"`,
  },
  APP_EXISTS: conflict(409, 'an app or environment with that name exists already'),
  ENV_NOT_FOUND: {
    ...user(404, 'the environment does not exist in the app'),
    message: (app: string, env: string) => `environment "${env}" does not exist in app "${app}"; see "rewind envs -a ${app}"`,
  },
  BUILD_NOT_FOUND: {
    ...user(404, 'the build does not exist in the app'),
    message: (app: string, id: string) => `build ${id} does not exist in app "${app}"; see "rewind builds -a ${app}"`,
  },
  RELEASE_NOT_FOUND: {
    ...user(404, 'the release does not exist in the app'),
    message: (app: string, id: string) => `release ${id} does not exist in app "${app}"; see "rewind releases -a ${app}"`,
  },
  DEPLOYMENT_NOT_FOUND: { ...user(404, 'the deployment does not exist'), message: (id: string) => `deployment ${id} does not exist` },
  PIPELINE_NOT_FOUND: user(404, 'the app has no pipeline of that name'),
  RUN_NOT_FOUND: user(404, 'the pipeline run does not exist'),
  TEMPLATE_NOT_FOUND: user(404, 'the template, or that version of it, does not exist'),
  TEMPLATE_VERSION_EXISTS: conflict(409, 'the template has that version already'),
  UPGRADE_NOT_FOUND: user(404, 'the upgrade does not exist'),
  COMPONENT_NOT_FOUND: user(404, 'the environment runs no component of that name'),
  UNKNOWN_COMPONENT: user(400, 'a component the release being promoted does not have'),
  UNKNOWN_PIPELINE_ENV: user(400, 'a pipeline that uses an environment the app does not have'),
  // Builds, releases, deployments.
  BUILD_NOT_READY: conflict(409, 'the build has not finished'),
  BUILD_FAILED: user(422, 'the build failed (its log says why)'),
  BUILD_NOT_SUCCEEDED: user(400, 'a rollback of a component to a build that failed or still runs'),
  BUILD_LACKS_COMPONENT: user(400, 'a rollback of a component to a build that did not build it'),
  NO_SOURCE: user(400, 'a pipeline that builds, run with no source while the app has no build'),
  RELEASE_IN_OTHER_ENV: {
    ...user(400, 'the release belongs to another environment; pass -e with its environment'),
    message: (id: string, its: string, env: string) => `release ${id} belongs to environment "${its}", not "${env}"; pass -e ${its}`,
  },
  SAME_ENVIRONMENT: user(400, 'a promotion from an environment to itself'),
  NO_CHANGE: user(400, 'a config change that changes nothing'),
  LAST_ENVIRONMENT: user(400, 'a delete of the only environment of an app; delete the app instead'),
  ENV_IS_RUNNING: user(400, 'a delete of an environment that runs; pass --force'),
  DEPLOYMENT_IN_PROGRESS: conflict(409, 'another deployment of the environment is in progress'),
  /** The plan was made on another basis than the environment's now; `details.plan` is the new plan. */
  STALE_PLAN: conflict(409, 'the environment changed since the plan was made; details.plan is the new plan'),
  NOTHING_TO_ROLL_BACK: conflict(409, 'the environment runs no release, or none before it'),
  NOTHING_RUNS: conflict(409, 'the environment runs nothing'),
  ALREADY_ROLLED_BACK: user(400, 'a rollback of a pipeline run that is rolled back or being rolled back'),
  NOT_AWAITING_APPROVAL: user(400, 'an approval of a pipeline run that waits for none'),
  // Templates.
  NOT_FROM_TEMPLATE: user(400, 'an upgrade of an environment that was not installed from a template'),
  TEMPLATE_MISMATCH: user(400, 'an upgrade to another template than the one the environment runs'),
  ALREADY_UP_TO_DATE: user(400, 'an upgrade to the version the environment runs already'),
  UPGRADE_NOT_LATEST: user(400, 'a rollback of an upgrade that a later upgrade followed; roll that one back first'),
  // Targets and the agent.
  UNSUPPORTED_BY_TARGET: user(400, 'the target of the environment cannot do that (backups, commands)'),
  AGENT_REFUSED: user(400, 'the agent refused the desired state or command as invalid'),
  AGENT_UNAVAILABLE: conflict(503, 'the agent cannot be reached'),
  IMAGE_NEEDS_SWARM: {
    ...user(400, 'a build of an image component for an environment whose target runs no images (local)'),
    message: (component: string, ref: string) =>
      `component ${component} is an image (${ref}); images run on a swarm target: create the environment with --target`,
  },
  IMAGE_NOT_FOUND: user(400, "an image component whose image the target's Docker Engine does not have"),
  INVALID_TARGET: user(400, 'a target whose Docker host does not answer, is not a swarm manager, or whose URL, registry or edge is malformed'),
  TARGET_NOT_FOUND: {
    ...user(404, 'no target has that name'),
    message: (name: string) => `target "${name}" does not exist; see "rewind targets" or add it with "rewind targets add ${name} --swarm --docker-host URL"`,
  },
  TARGET_EXISTS: conflict(409, 'a target with that name exists already (local always does)'),
  TARGET_IN_USE: conflict(409, 'a remove of a target that environments still use'),
  // Only the CLI raises these.
  NO_APP: { ...cliOnly('no app in -a or REWIND_APP'), message: () => 'no app given; pass -a APP or set REWIND_APP' },
  INVALID_NUMBER: cliOnly('an option that must be a whole number'),
  INVALID_PORT: cliOnly('a port option out of 0–65535'),
  INVALID_PORT_RANGE: cliOnly('a --port-range (REWIND_AGENT_PORT_RANGE) that is not FROM-TO'),
  INVALID_PROXY: cliOnly('a --proxy other than builtin or nginx'),
  INVALID_COMPONENT_MOVE: cliOnly('a --component that is not NAME=BUILD, or names a component twice'),
  INVALID_COMPONENT_LIST: cliOnly('a --components that names no component'),
  CONFIG_KEY_NOT_SET: cliOnly('rewind env get of a variable that is not set'),
  EMPTY_SOURCE: cliOnly('a source folder with no file to upload'),
  RELEASE_NOT_DEPLOYED: {
    ...conflict(409, 'a deploy whose build made a release that could not be deployed (the environment was busy); promote it'),
    cli: true,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;
/** The codes whose message is a template, and the template's arguments. */
type Templated = { [C in ErrorCode]: (typeof ERRORS)[C] extends { message: (...args: never[]) => string } ? C : never }[ErrorCode];
type TemplateArgs<C extends Templated> = (typeof ERRORS)[C] extends { message: (...args: infer A) => string } ? A : never;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERRORS, code);
/** The CLI exit code for an HTTP status whose code is not in the catalog. */
export const exitCodeOf = (status: number): 1 | 2 => (status === 409 || status === 503 ? 2 : 1);

export class RewindError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'RewindError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }
  /** CLI exit code: 1 for user errors, 2 for conflicts and availability. */
  get exitCode(): number {
    return ERRORS[this.code].exit;
  }
}

/** The error of a code whose message is a template, e.g. `rewindError('APP_NOT_FOUND', app)`. */
export function rewindError<C extends Templated>(code: C, ...args: TemplateArgs<C>): RewindError {
  return new RewindError(code, messageOf(code, ...args));
}
/** The message of a templated code (also for replies that are not a thrown RewindError). */
export function messageOf<C extends Templated>(code: C, ...args: TemplateArgs<C>): string {
  return (ERRORS[code].message as (...a: TemplateArgs<C>) => string)(...args);
}

export const isRewindError = (e: unknown): e is RewindError => e instanceof RewindError;

export const notFound = {
  app: (app: string) => rewindError('APP_NOT_FOUND', app),
  env: (app: string, env: string) => rewindError('ENV_NOT_FOUND', app, env),
  build: (app: string, id: string) => rewindError('BUILD_NOT_FOUND', app, id),
  release: (app: string, id: string) => rewindError('RELEASE_NOT_FOUND', app, id),
  deployment: (id: string) => rewindError('DEPLOYMENT_NOT_FOUND', id),
};
