import { Type } from '@sinclair/typebox';
import { BUILD_STATUSES } from '../domain/states.js';
import { List, Nullable, StringEnum, StringMap, type View } from './common.js';

/** Builds. */

export const BuildView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  status: StringEnum(BUILD_STATUSES),
  description: Type.String(),
  components: List(Type.String(), { description: "The components this build built; a release's other components reuse earlier builds." }),
  sourceSha256: Type.String(),
  artifactSha256: Nullable(Type.String(), "The first component's slug (see `artifacts`)."),
  artifacts: StringMap('component → slug sha256'),
  release: Nullable(Type.String(), 'The release a succeeded build created (in the env it was uploaded for).'),
  env: Type.String(),
  error: Nullable(Type.String()),
  deployment: Nullable(Type.String(), 'The deployment of the release, for a build uploaded with deploy=true.'),
  deployError: Nullable(Type.String(), "Why a succeeded deploy=true build's release was not deployed (it is kept; promote it)."),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
});
export type BuildView = View<typeof BuildView>;

export const BuildsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  component: Type.Optional(Type.String({ description: 'only builds that built this component (its version history)' })),
});
export const BuildQuery = Type.Object({
  env: Type.String({ default: 'production' }),
  description: Type.Optional(Type.String({ maxLength: 500 })),
  deploy: Type.Boolean({ default: false, description: 'deploy the release once built (what `rewind deploy` asks)' }),
});
export const FollowQuery = Type.Object({ follow: Type.Boolean({ default: false }) });
