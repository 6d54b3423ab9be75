import { Type } from '@sinclair/typebox';
import { Nullable, type RequestOf, type View } from './common.js';

/** Processes, logs and exec. */

export const ProcessView = Type.Object({
  id: Type.String(),
  component: Type.String(),
  release: Type.String(),
  build: Type.String(),
  pid: Nullable(Type.Integer()),
  port: Nullable(Type.Integer()),
  state: Type.String(),
  startedAt: Type.String(),
  restarts: Type.Integer(),
  rss: Nullable(Type.Number(), 'resident memory in bytes'),
  standbyUntil: Nullable(Type.String(), 'For warm-standby instances: when they will be stopped.'),
  node: Nullable(Type.String(), 'The host it runs on, for a target of several hosts (a Swarm node); null on local.'),
});
export type ProcessView = View<typeof ProcessView>;

export const LogsQuery = Type.Object({
  env: Type.String({ default: 'production' }),
  follow: Type.Boolean({ default: false }),
  lines: Type.Integer({ minimum: 0, maximum: 10000, default: 100 }),
});
export const ExecBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    command: Type.String({ minLength: 1, maxLength: 16_384, description: "run through /bin/sh -c in the release's slug, with its config" }),
    component: Type.Optional(Type.String({ description: 'whose slug and environment; default: web, else the first component' })),
  },
  { additionalProperties: false },
);

export type ExecRequest = RequestOf<typeof ExecBody, 'env'>;
