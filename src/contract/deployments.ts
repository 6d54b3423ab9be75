import { Type, type Static } from '@sinclair/typebox';
import { DEPLOYMENT_STATES, DEPLOYMENT_KINDS } from '../domain/states.js';
import { Nullable, StringEnum, type View } from './common.js';

/** Deployments and their logged steps. */

export const DeploymentState = StringEnum(DEPLOYMENT_STATES);
export type DeploymentState = Static<typeof DeploymentState>;

export const DeploymentView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  env: Type.String(),
  release: Type.String(),
  fromRelease: Nullable(Type.String(), 'The release that was active when it started.'),
  kind: StringEnum(DEPLOYMENT_KINDS),
  state: DeploymentState,
  error: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
});
export type DeploymentView = View<typeof DeploymentView>;

export const DeploymentEventView = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  message: Type.String(),
});
export type DeploymentEventView = View<typeof DeploymentEventView>;
