/**
 * How a component's health is checked, as its manifest says. The agent's wire type
 * (`HealthSpec` in src/protocol/agent-protocol.ts) has the same shape; the engine passes one as
 * the other, so neither side imports the other.
 */
export interface HealthSpec {
  /** HTTP path probed with GET; 2xx/3xx is healthy. Absent: TCP connect to the port, or (no port) the process staying up. */
  readonly path?: string;
  /** How long new instances get to become healthy before the rollout fails. */
  readonly timeoutMs: number;
  /** Delay between probes. */
  readonly intervalMs: number;
}
