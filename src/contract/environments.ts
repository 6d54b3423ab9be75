import { Type } from '@sinclair/typebox';
import { Nullable, StringMap, type View } from './common.js';

/** Environments: the view, settings, config in effect, and the requests that make or remove one. */

export const EnvironmentView = Type.Object({
  app: Type.String(),
  name: Type.String(),
  position: Type.Integer(),
  activeRelease: Nullable(Type.String()),
  proxyPort: Type.Integer(),
  url: Type.String({ description: 'http://127.0.0.1:PORT' }),
  health: Type.String({ description: 'healthy | unhealthy | empty (runs nothing) | unknown (agent unreachable) | deploying' }),
  components: StringMap('component → URL, for HTTP components other than the one at `url`'),
  target: Type.String({ description: 'where it runs: local, or a target of GET /api/targets' }),
  createdAt: Type.String(),
});
export type EnvironmentView = View<typeof EnvironmentView>;

// ── environment settings and config ──────────────────────────────────────

const SETTINGS = {
  standbyMinutes: Type.Number({ description: 'How long the previous release stays warm after a switch (0: stop it once drained).' }),
  standbyCount: Type.Number({ description: 'How many previous releases stay warm.' }),
  autoRollbackSeconds: Type.Number({ description: 'How long after a switch an unhealthy new release is rolled back automatically (0: never).' }),
  drainSeconds: Type.Number({ description: 'How long old instances may finish in-flight requests.' }),
};

/** An environment's own data-plane settings and those in effect (with the server's defaults). */
export const EnvSettingsView = Type.Object({
  settings: Type.Partial(Type.Object(SETTINGS), { description: "The environment's own; an absent key takes the server's default." }),
  effective: Type.Object(SETTINGS, { description: 'In effect from the next deployment.' }),
});
export type EnvSettingsView = View<typeof EnvSettingsView>;

/** The environment variables in effect: the newest release's. */
export const EnvConfigView = Type.Object({
  config: StringMap(),
  release: Nullable(Type.String(), 'the release whose config this is: the active one; while nothing runs, the newest (null: none yet)'),
});
export type EnvConfigView = View<typeof EnvConfigView>;

export const EnvParams = Type.Object({ app: Type.String(), env: Type.String() });
export const CreateEnvBody = Type.Object(
  {
    name: Type.String(),
    after: Type.Optional(Type.String()),
    before: Type.Optional(Type.String()),
    target: Type.Optional(Type.String({ description: 'where it runs: local (the default) or a target of GET /api/targets' })),
  },
  { additionalProperties: false },
);
export const ForceQuery = Type.Object({ force: Type.Boolean({ default: false }) });
