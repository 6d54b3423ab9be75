/** `rewind exec`: a one-off command in an app/env's live release, in its own fresh copy of the build. */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { ExecEvent, ExecRequest } from '../protocol/agent-protocol.js';
import type { AgentContext } from './agent-context.js';
import { AgentHttpError } from './agent-http-error.js';
import type { AppRuntime } from './app-runtime.js';
import { runOneOff } from './exec.js';
import { instanceArgv, instanceEnv, routedComponent } from './process-commands.js';
import { describeExit } from './supervisor.js';
import { removeWorkDir, workDirPath } from './work-copy.js';

/**
 * Runs a one-off command in the live release of `runtime` (app/env): throws a 404 when nothing
 * runs there or the component is unknown, before anything starts; then streams the command's
 * output to `onEvent` and resolves once it has exited.
 */
export async function execInApp(
  ctx: AgentContext,
  runtime: AppRuntime | undefined,
  app: string,
  env: string,
  request: ExecRequest,
  onEvent: (event: ExecEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const desired = runtime?.release ? runtime.desired : null;
  if (!runtime || !desired) throw new AgentHttpError(404, 'APP_NOT_FOUND', `nothing runs for ${app} (${env}); deploy it first`);
  const names = desired.components.map((c) => c.name);
  const component =
    request.component !== undefined
      ? desired.components.find((c) => c.name === request.component)
      : (routedComponent(desired.components) ?? desired.components[0]);
  if (!component) {
    throw new AgentHttpError(
      404,
      'COMPONENT_NOT_FOUND',
      request.component !== undefined
        ? `${desired.release} has no component ${request.component}; its components are ${names.join(', ')}`
        : `${desired.release} has no component`,
    );
  }
  const id = `run${randomBytes(3).toString('hex')}`;
  // A one-off command gets its own fresh copy of the build, as an instance does, removed after it.
  const { dir: slugDir } = await ctx.slugs.workCopy(component.artifact, workDirPath(ctx.dataDir, app, env, `${component.name}.${id}`));
  const base = {
    app,
    env,
    release: desired.release,
    component,
    instance: id,
    agentDir: resolve(ctx.dataDir),
    config: desired.config,
    slugDir,
    port: null,
    agentEnv: ctx.agentEnv,
  };
  const plan = { argv: instanceArgv(request.command), cwd: slugDir, env: instanceEnv(base) };
  const who = request.actor ? ` by ${request.actor}` : '';
  const exit = await runOneOff(plan, {
    onSpawn: (pid) => {
      runtime.log.system(`exec${who} in ${component.name}.${id} of ${desired.release} (pid ${pid}): ${request.command}`);
      onEvent({ type: 'started', release: desired.release, component: component.name, pid });
    },
    onEvent,
    signal,
    graceMs: ctx.stopGraceMs,
  }).finally(() => removeWorkDir(ctx.dataDir, slugDir));
  if (exit.error) onEvent({ type: 'output', stream: 'stderr', text: `cannot run the command: ${exit.error}\n` });
  runtime.log.system(`exec ${component.name}.${id} ${signal.aborted ? 'stopped (the caller left): ' : ''}${describeExit(exit)}`);
  onEvent({ type: 'exit', code: exit.code ?? (exit.error ? 127 : null), signal: exit.signal });
}
