/** The API in-process (buildApp + inject) over a temp data dir and a target that runs nothing. */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/app.js';
import type { AuthOptions } from '../../src/api/auth.js';
import { LoginCodes, Sessions } from '../../src/api/credentials.js';
import { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { Store } from '../../src/store/store.js';
import { singleTarget, type Target } from '../../src/targets/target.js';

/** A target that runs nothing and accepts every desired state. */
export const idleTarget: Target = {
  apply: async (desired) => ({ ok: true, release: desired.release }),
  observe: async () => null,
  observeAll: async () => [],
  logs: async () => Readable.from([]),
  remove: async () => {},
  close: async () => {},
};

export interface InProcess {
  readonly dir: string;
  readonly store: Store;
  readonly engine: Engine;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** `beforeReady` may add hooks to the app (they can only be added before it is ready). */
/** `target` is a shorthand for `targets: singleTarget(target)`. */
export async function inProcessApp(
  opts: Partial<EngineOptions> & { target?: Target } = {},
  withAuth?: AuthOptions,
  beforeReady?: (app: FastifyInstance) => void,
): Promise<InProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-inputs-'));
  const store = await Store.openSqlite(dir);
  const { target, ...o } = opts;
  const engine = new Engine({
    store,
    targets: singleTarget(target ?? idleTarget),
    artifacts: new ArtifactStore(join(dir, 'artifacts')),
    dataDir: dir,
    log: pino({ level: 'silent' }),
    proxyHost: '127.0.0.1',
    maxUploadBytes: 1 << 20,
    defaults: { standbyMinutes: 15, standbyCount: 1, autoRollbackSeconds: 60, drainSeconds: 30 },
    buildTimeoutMs: 60_000,
    ...o,
  });
  // Unless a test is about authentication, no credential is needed.
  const auth: AuthOptions = withAuth ?? { credentials: [], sessions: new Sessions(randomBytes(32), []), loginCodes: new LoginCodes(), insecureNoAuth: true };
  const app = await buildApp({ engine, logger: false, auth });
  beforeReady?.(app);
  await app.ready();
  return {
    dir,
    store,
    engine,
    app,
    async close() {
      await app.close();
      await engine.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
