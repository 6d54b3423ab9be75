/** One rollout in progress: what it deploys and replaces, what to undo if it fails, its phase; and the error its steps fail it with. */
import type { DesiredState } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import type { Instance } from './instance.js';
import type { RoutePlan } from './routing.js';
import type { ClaimedStandby } from './standby-claims.js';

/** A rollout step failed with a message for the caller (anything else thrown is an agent error, with its stack). */
export class RolloutFailed extends Error {}

/** One rollout as it goes: what it deploys, what it replaces, and what to undo if it fails. */
export interface Rollout {
  readonly runtime: AppRuntime;
  readonly desired: DesiredState;
  readonly signal: AbortSignal;
  /** An automatic rollback: the replaced (bad) instances are stopped, not kept warm, and no watch is armed. */
  readonly automatic: boolean;
  /** Said to the app's log and to the caller. */
  readonly say: (message: string) => void;
  /** The release, and its desired state, that served before this rollout. */
  readonly previous: string | null;
  readonly previousDesired: DesiredState | null;
  /** The new instances: claimed from the standby, then started. */
  fresh: Instance[];
  /** Standby instances taken, given back if the rollout fails (none once traffic switched). */
  claimed: ClaimedStandby[];
  /** Routes prepared and not yet committed: abandoned if the rollout fails. */
  plan: RoutePlan | null;
}

/** Shows the rollout's phase in the app's observed state. */
export function enterPhase(rollout: Rollout, name: string): void {
  const { desired } = rollout;
  rollout.runtime.rollout = { release: desired.release, ...(desired.deployment ? { deployment: desired.deployment } : {}), phase: name };
}

export function checkAborted(rollout: Rollout): void {
  if (rollout.signal.aborted) throw new RolloutFailed('rollout aborted: the agent is shutting down or the app was removed');
}
