import { RewindError } from '../domain/errors.js';
import { type PipelineDef, parsePipelines, pipelineEnvironments } from '../domain/pipeline.js';
import type { Store } from '../store/store.js';

/** Saves definitions (from a manifest's `pipelines:` or the API), after checking their environments exist. */
export async function definePipelines(store: Store, app: string, value: unknown, source: 'manifest' | 'api', actor: string): Promise<PipelineDef[]> {
  const defs = await checkPipelines(store, app, value);
  const at = new Date().toISOString();
  for (const d of defs) await store.pipelines.saveDefinition(app, d, source, at);
  await store.recordAudit({ actor, action: 'pipeline.define', app, detail: { pipelines: defs.map((d) => d.name), source } });
  return defs;
}

/** Parses definitions and checks that the environments they use exist; changes nothing. */
export async function checkPipelines(store: Store, app: string, value: unknown): Promise<PipelineDef[]> {
  const defs = parsePipelines(value);
  const envs = new Set((await store.apps.environments(app)).map((e) => e.name));
  const missing = defs.flatMap((d) =>
    pipelineEnvironments(d)
      .filter((e) => !envs.has(e))
      .map((e) => `pipeline ${d.name} uses environment "${e}", which ${app} does not have`),
  );
  if (missing.length) throw new RewindError('UNKNOWN_PIPELINE_ENV', `${missing.join('; ')}; create it with "rewind envs create NAME -a ${app}"`);
  return defs;
}
