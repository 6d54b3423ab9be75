/**
 * Commands as data: everything the agent runs is first built here, by pure functions,
 * as an argv array plus cwd and env. The supervisor only executes these plans.
 */
import { join } from 'node:path';
import type { DesiredComponent } from '../protocol/agent-protocol.js';

/** The only variables an instance inherits from the agent's own environment. */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG'] as const;

export interface InstancePlanInput {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  readonly component: DesiredComponent;
  /** The instance's id (unique within its app/env): $REWIND_INSTANCE is `component.id`. */
  readonly instance: string;
  /** The agent's data dir, $REWIND_AGENT: how a restarted agent finds processes its state file missed. */
  readonly agentDir: string;
  readonly config: Readonly<Record<string, string>>;
  /** The instance's own working copy of the component's build (work-copy.ts): its working directory. */
  readonly slugDir: string;
  /** $PORT for components that serve HTTP; null for `port: false`. */
  readonly port: number | null;
  readonly agentEnv: Readonly<Record<string, string | undefined>>;
}

export interface InstancePlan {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** The manifest's command line, run by the POSIX shell (the manifest is the user's own code). */
export function instanceArgv(command: string): readonly string[] {
  return ['/bin/sh', '-c', command];
}

/** Agent PATH/HOME/LANG, then the release config, then what Rewind itself sets (which wins). */
export function instanceEnv(input: InstancePlanInput): Record<string, string> {
  const inherited = INHERITED_ENV.flatMap((key) => (input.agentEnv[key] !== undefined ? [[key, input.agentEnv[key] as string] as const] : []));
  // Entries, not assignments: a config key such as __proto__ is a variable like any other.
  return Object.fromEntries([
    ...inherited,
    ...Object.entries(input.config),
    ...(input.port !== null ? [['PORT', String(input.port)] as const] : []),
    ['REWIND_APP', input.app],
    ['REWIND_ENV', input.env],
    ['REWIND_RELEASE', input.release],
    ['REWIND_COMPONENT', input.component.name],
    ['REWIND_INSTANCE', `${input.component.name}.${input.instance}`],
    ['REWIND_AGENT', input.agentDir],
  ]);
}

/** The spawn plan of one process instance; throws for static components (they have no process). */
export function instancePlan(input: InstancePlanInput): InstancePlan {
  const command = input.component.command;
  if (command === undefined) throw new Error(`component ${input.component.name} has no command`);
  return { argv: instanceArgv(command), cwd: input.slugDir, env: instanceEnv(input) };
}

/** True when the component answers HTTP: it declares a port, or the agent serves its static files. */
export function servesHttp(component: DesiredComponent): boolean {
  return component.port || (component.command === undefined && component.static !== undefined);
}

/** The component the proxy routes to: `web`, else the first one that serves HTTP. */
export function routedComponent(components: readonly DesiredComponent[]): DesiredComponent | undefined {
  return components.find((c) => c.name === 'web' && servesHttp(c)) ?? components.find(servesHttp);
}

export function slugPath(dataDir: string, sha256: string): string {
  return join(dataDir, 'slugs', sha256);
}

export function appLogDir(dataDir: string, app: string, env: string): string {
  return join(dataDir, 'logs', app, env);
}

/** Raw stdout+stderr of one instance, written by the instance itself. */
export function instanceLogPath(dataDir: string, app: string, env: string, component: string, id: string): string {
  return join(appLogDir(dataDir, app, env), `${component}.${id}.log`);
}

/** Timestamped, merged log of an app/env (instances and agent lines); `_` cannot start a component name. */
export function combinedLogPath(dataDir: string, app: string, env: string): string {
  return join(appLogDir(dataDir, app, env), '_combined.log');
}

/** One log line: `ISO-TIMESTAMP source message`, source being `component.instance` or `agent`. */
export function formatLogLine(at: Date, source: string, message: string): string {
  return `${at.toISOString()} ${source} ${message}`;
}

/** Restart delay after `failures` consecutive failures: 1s, 2s, 4s… capped at 30s. */
export function restartDelayMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures));
}
