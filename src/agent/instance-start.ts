/** Starting one instance of an app runtime: a fresh working copy of its build's files, then its process or static server. */
import { join, resolve } from 'node:path';
import type { AppRuntime } from './app-runtime.js';
import type { Instance } from './instance.js';
import { label } from './instance.js';
import { instancePlan, servesHttp } from './process-commands.js';
import { serveStatic } from './static-server.js';
import type { ProcessHandle } from './supervisor.js';
import { spawnInstance } from './supervisor.js';
import { workDirPath } from './work-copy.js';

/** Starts the process (or static server) of `instance` in a fresh copy of its build's files, and watches it. */
export async function startInstance(runtime: AppRuntime, instance: Instance, say: (message: string) => void): Promise<ProcessHandle> {
  const c = instance.component;
  const logPath = runtime.log.rawPath(c.name, instance.id);
  const copy = await runtime.ctx.slugs.workCopy(c.artifact, workDirPath(runtime.ctx.dataDir, runtime.app, runtime.env, label(instance)));
  if (copy.repaired) say(`the unpacked files of ${c.build} were changed by hand (${copy.repaired}); unpacked them again from the artifact`);
  instance.workDir = copy.dir;
  let handle: ProcessHandle;
  if (c.command === undefined) {
    const root = join(instance.workDir, c.static ?? '.');
    handle = await serveStatic(root, instance.port as number).catch((err: NodeJS.ErrnoException) => failedHandle(err.code ?? err.message));
  } else {
    const plan = instancePlan({
      app: runtime.app,
      env: runtime.env,
      release: instance.desired.release,
      component: c,
      instance: instance.id,
      agentDir: resolve(runtime.ctx.dataDir),
      config: instance.desired.config,
      slugDir: instance.workDir,
      port: servesHttp(c) ? instance.port : null,
      agentEnv: runtime.ctx.agentEnv,
    });
    handle = await spawnInstance(plan, logPath);
  }
  instance.handle = handle;
  instance.startedAt = new Date().toISOString();
  instance.state = 'starting';
  runtime.log.track(c.name, instance.id, runtime.log.offsetOf(instance.id));
  const where = instance.port !== null ? ` on port ${instance.port}` : '';
  say(`starting ${label(instance)} (${handle.pid !== null ? `pid ${handle.pid}` : 'static files'})${where}`);
  runtime.watchExit(instance, handle);
  return handle;
}

function failedHandle(error: string): ProcessHandle {
  return { pid: null, exited: Promise.resolve({ code: null, signal: null, error }), stop: async () => {}, release: () => {} };
}
