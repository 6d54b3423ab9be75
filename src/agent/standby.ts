/**
 * Warm standby: the releases an app/env ran before, kept running without traffic for a while so
 * that rolling back to one is a route swap. A rollback release is a copy with a new id, so a
 * rollout finds standby instances by what they run (rollout-plan.ts), not by their release id.
 */
import { createHash } from 'node:crypto';
import type { DesiredState } from '../protocol/agent-protocol.js';
import { DEFAULT_STANDBY } from '../protocol/agent-protocol.js';
import { processFields, sortedConfig } from './rollout-plan.js';

/** What the instances of a desired state run: per component its build, command, files, port, health and scale, plus the config. */
export function fingerprint(desired: DesiredState): string {
  const components = [...desired.components]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((c) => [c.name, c.build, ...processFields(c)]);
  const config = sortedConfig(desired);
  return createHash('sha256').update(JSON.stringify({ components, config })).digest('hex');
}

export function standbyPolicy(desired: DesiredState): { readonly keepMs: number; readonly count: number } {
  return desired.standby ?? DEFAULT_STANDBY;
}

export interface StandbySet {
  readonly release: string;
  readonly desired: DesiredState;
  readonly fingerprint: string;
  /** Epoch ms at which its instances are stopped. */
  readonly until: number;
}

/** The standby sets of one app/env, oldest first, each expiring on its own timer. */
export class StandbyPool {
  #sets: StandbySet[] = [];
  readonly #timers = new Map<StandbySet, NodeJS.Timeout>();
  readonly #expire: (set: StandbySet) => void;

  constructor(expire: (set: StandbySet) => void) {
    this.#expire = expire;
  }

  get sets(): readonly StandbySet[] {
    return this.#sets;
  }

  /** Adds (or renews) the standby of `desired.release` until `until`. */
  add(desired: DesiredState, until: number): StandbySet {
    const existing = this.#sets.find((s) => s.release === desired.release);
    if (existing) this.take(existing);
    const set: StandbySet = { release: desired.release, desired, fingerprint: fingerprint(desired), until };
    this.#sets.push(set);
    const timer = setTimeout(
      () => {
        this.#timers.delete(set);
        this.#sets = this.#sets.filter((s) => s !== set);
        this.#expire(set);
      },
      Math.max(0, until - Date.now()),
    );
    timer.unref();
    this.#timers.set(set, timer);
    return set;
  }

  get(release: string): StandbySet | undefined {
    return this.#sets.find((s) => s.release === release);
  }

  /** Removes `set` from the pool (reused, or stopped). */
  take(set: StandbySet): void {
    clearTimeout(this.#timers.get(set));
    this.#timers.delete(set);
    this.#sets = this.#sets.filter((s) => s !== set);
  }

  /** Removes and returns the oldest sets beyond `count`. */
  trim(count: number): StandbySet[] {
    const dropped = this.#sets.slice(0, Math.max(0, this.#sets.length - count));
    for (const set of dropped) this.take(set);
    return dropped;
  }

  /** Stops every timer (the agent is closing); the sets stay, to be persisted. */
  clearTimers(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
