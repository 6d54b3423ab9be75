import type { DeploymentKind, DeploymentState } from './states.js';

export type { DeploymentKind, DeploymentState };

/** One attempt to make an environment run a release. */
export interface Deployment {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly release: string;
  readonly fromRelease: string | null;
  readonly kind: DeploymentKind;
  readonly state: DeploymentState;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

/** One step a deployment logged. */
export interface DeploymentEvent {
  readonly seq: number;
  readonly at: string;
  readonly message: string;
}
