/**
 * How an environment's releases are named and labelled on a Swarm (decision 0009): one service per
 * release and component, `rw-<app>-<env>-<release>-<component>`, found again by its labels, never
 * by its name. Pure functions.
 */
import { createHash } from 'node:crypto';
import type { DesiredComponent, DesiredState } from '../../protocol/agent-protocol.js';
import type { Labels } from './docker-types.js';

export const LABEL = {
  app: 'rewind.app',
  env: 'rewind.env',
  release: 'rewind.release',
  component: 'rewind.component',
  build: 'rewind.build',
  deployment: 'rewind.deployment',
  /** The proxy port of app/env, so that observe can report it after a restart of the target. */
  proxyPort: 'rewind.proxy-port',
  /** What the service runs (image, config, scale, port): a release's services are reused only when it is unchanged. */
  spec: 'rewind.spec',
  /**
   * The fence of the switch that made this release current (a number that only increases). The
   * release whose services carry the highest one is the current release of app/env.
   */
  current: 'rewind.current',
  /** Epoch ms until which a replaced release's services stay as warm standby. */
  standbyUntil: 'rewind.standby-until',
  /** Epoch ms until which a replaced release that is not kept warm lets the edges drain its requests. */
  drainUntil: 'rewind.drain-until',
} as const;

/** Docker's limit for a service name (it becomes a DNS label). */
export const MAX_SERVICE_NAME = 63;

/**
 * `rw-<app>-<env>-<release>-<component>`, lower-case, with anything but [a-z0-9-] made a `-`.
 * When that changed more than the case or the name is over 63 characters, it is cut and ends in
 * `-` and 10 hex digits of a hash of the exact parts, so that it stays unique and deterministic.
 */
export function serviceName(app: string, env: string, release: string, component: string): string {
  const plain = `rw-${app}-${env}-${release}-${component}`.toLowerCase();
  const safe = plain.replace(/[^a-z0-9-]/g, '-');
  if (safe === plain && safe.length <= MAX_SERVICE_NAME) return safe;
  const hash = createHash('sha256').update([app, env, release, component].join('\0')).digest('hex').slice(0, 10);
  const head = safe.slice(0, MAX_SERVICE_NAME - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

const PINNED = /^(?:sha256:[0-9a-f]{64}|[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64})$/;

/** True for an image id (`sha256:…`) or a reference pinned by digest (`repo@sha256:…`). */
export function isPinnedImage(image: string): boolean {
  return PINNED.test(image);
}

/** Why a desired state cannot run on a Swarm, as one line, or null when it can. */
export function refusalOf(desired: DesiredState): string | null {
  // The current release is recorded on its services' labels: a release without one has nowhere to be.
  if (desired.components.length === 0) return `release ${desired.release} has no components; a Swarm release runs at least one image component`;
  for (const c of desired.components) {
    if (c.image === undefined) {
      return `component ${c.name} has no image: a Swarm target runs image components only (source components on Swarm are not built yet)`;
    }
    if (!isPinnedImage(c.image)) return `component ${c.name}: image ${c.image} is not pinned; give it as REPO@sha256:DIGEST or as an image id sha256:…`;
    if (!Number.isSafeInteger(c.scale) || c.scale < 0) return `component ${c.name}: scale must be a whole number >= 0, not ${c.scale}`;
  }
  const port = desired.config.PORT;
  if (port !== undefined && containerPortOf(desired) === null) return `config PORT=${port} is not a port number (1-65535)`;
  return null;
}

/** The port an HTTP image component listens on in its container: config PORT, else 80 (given to it as $PORT too). */
export function containerPortOf(desired: DesiredState): number | null {
  const raw = desired.config.PORT;
  if (raw === undefined) return 80;
  const port = Number(raw);
  return /^\d+$/.test(raw) && port >= 1 && port <= 65535 ? port : null;
}

/** A short hash of what a component's service runs; equal hashes run the same thing. */
export function specFingerprint(desired: DesiredState, c: DesiredComponent): string {
  const what = { image: c.image, config: Object.entries(desired.config).sort(), scale: c.scale, port: c.port ? containerPortOf(desired) : null };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

/** The labels of a component's service: who it is, what it runs, plus the target's own (`scope`). */
export function serviceLabels(desired: DesiredState, c: DesiredComponent, scope: Labels): Labels {
  return {
    ...scope,
    [LABEL.app]: desired.app,
    [LABEL.env]: desired.env,
    [LABEL.release]: desired.release,
    [LABEL.component]: c.name,
    [LABEL.build]: c.build,
    ...(desired.deployment ? { [LABEL.deployment]: desired.deployment } : {}),
    [LABEL.proxyPort]: String(desired.proxyPort),
    [LABEL.spec]: specFingerprint(desired, c),
  };
}
