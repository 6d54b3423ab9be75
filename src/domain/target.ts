/** Targets as data (issue 12 item 3): where an environment runs, other than `local`. Values and their rules, no I/O. */
import { RewindError } from './errors.js';

/** The target every environment has unless created with another: the agent on the server's host. Not a row. */
export const LOCAL_TARGET = 'local';

export const TARGET_KINDS = ['swarm'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** A target as stored. */
export interface TargetRow {
  readonly name: string;
  readonly kind: TargetKind;
  /** The swarm manager's Docker host: `unix:///PATH` or `tcp://HOST:PORT`. */
  readonly dockerHost: string;
  /** HOST:PORT of the registry its images come from, or null. */
  readonly registry: string | null;
  /** The edges' URLs (the Rewind agent on each node, decision 0009); empty: no routing. */
  readonly edges: readonly string[];
  readonly createdBy: string;
  readonly createdAt: string;
}

const TARGET_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const REGISTRY = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?:[0-9]{1,5}$/;

/** What `rewind targets add` asks for, checked: one line naming the first thing that is wrong. */
export function checkTargetInput(o: { name: string; dockerHost: string; registry?: string; edges?: readonly string[] }): void {
  if (!TARGET_NAME.test(o.name)) {
    throw new RewindError(
      'INVALID_NAME',
      `"${o.name}" is not a valid target name: use 1-31 lower-case letters, digits and dashes, starting with a letter (e.g. lab)`,
    );
  }
  if (o.name === LOCAL_TARGET) throw new RewindError('TARGET_EXISTS', 'target "local" always exists (the agent on this host); pick another name');
  if (!/^(unix:\/\/\/\S+|tcp:\/\/[^\s/]+:[0-9]{1,5})$/.test(o.dockerHost)) {
    throw new RewindError('INVALID_TARGET', `--docker-host ${JSON.stringify(o.dockerHost)} is not unix:///PATH or tcp://HOST:PORT`);
  }
  if (o.registry !== undefined && !REGISTRY.test(o.registry)) {
    throw new RewindError('INVALID_TARGET', `--registry ${JSON.stringify(o.registry)} is not HOST:PORT`);
  }
  for (const edge of o.edges ?? []) {
    if (!/^https?:\/\/[^\s/]+(:[0-9]{1,5})?\/?$/.test(edge)) {
      throw new RewindError('INVALID_TARGET', `--edge ${JSON.stringify(edge)} is not http://HOST:PORT (a Rewind agent's URL)`);
    }
  }
}
