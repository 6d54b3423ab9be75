import { Type } from '@sinclair/typebox';
import { List, type View } from './common.js';
import { EnvironmentView } from './environments.js';

/** Apps. */

export const AppView = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  environments: List(EnvironmentView),
});
export type AppView = View<typeof AppView>;

export const CreateAppBody = Type.Object({ name: Type.String({ description: 'app name: [a-z][a-z0-9-]{0,62}' }) }, { additionalProperties: false });
