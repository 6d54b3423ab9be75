import { Type } from '@sinclair/typebox';
import { Nullable, type RequestOf, type View } from './common.js';

/** Targets: where environments run besides `local` (issue 12 item 3). */

export const TargetView = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('local'), Type.Literal('swarm')]),
  dockerHost: Nullable(Type.String(), "the swarm manager's Docker host (null for local)"),
  registry: Nullable(Type.String(), 'HOST:PORT of the registry its images come from'),
  edges: Type.Array(Type.String(), { description: "the edges' URLs (the Rewind agent on each node)" }),
  environments: Type.Array(Type.String(), { description: 'the environments that run on it, as app/env' }),
  createdBy: Nullable(Type.String()),
  createdAt: Nullable(Type.String()),
});
export type TargetView = View<typeof TargetView>;

export const TargetParams = Type.Object({ name: Type.String() });
export const CreateTargetBody = Type.Object(
  {
    name: Type.String(),
    kind: Type.Literal('swarm'),
    dockerHost: Type.String({ description: 'unix:///PATH or tcp://HOST:PORT of a swarm manager' }),
    registry: Type.Optional(Type.String({ description: 'HOST:PORT' })),
    edges: Type.Optional(Type.Array(Type.String(), { description: "the edges' URLs (Rewind agents); the local agent's token is used" })),
  },
  { additionalProperties: false },
);
export type CreateTargetRequest = RequestOf<typeof CreateTargetBody>;
