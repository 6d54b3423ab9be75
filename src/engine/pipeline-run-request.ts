/** A new run of a pipeline, before it is saved: its definition and build resolved, its source (when uploaded) built first. */
import type { Readable } from 'node:stream';
import type { Builder } from '../builder/builder.js';
import { RewindError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { PipelineRun } from '../store/pipelines-repo.js';
import type { Store } from '../store/store.js';
import { definePipelines } from './pipeline-definitions.js';

/** What starts a run: a source upload (built first), a build id, or neither (the newest build of uploaded source). */
export interface RunRequest {
  readonly source?: Readable;
  readonly declaredBytes?: number;
  readonly build?: string;
  readonly stories: readonly string[];
  readonly description?: string;
  readonly actor: string;
}

/**
 * The run of pipeline `name` that `o` asks for. With a source upload, it is validated and built
 * first, and the `pipelines:` of its rewind.yml (re)define the app's pipelines.
 */
export async function newRun(deps: { readonly store: Store; readonly builder: Builder }, app: string, name: string, o: RunRequest): Promise<PipelineRun> {
  const { store } = deps;
  if (!(await store.apps.get(app))) throw notFound.app(app);
  for (const s of o.stories)
    if (!/^[A-Za-z0-9][A-Za-z0-9._#-]{0,63}$/.test(s)) throw new RewindError('INVALID_STORY_ID', `"${s}" is not a story id (letters, digits, . _ # -)`);
  let def = await store.pipelines.definition(app, name);
  let buildId = o.build ?? null;
  if (o.source) {
    const envs = await store.apps.environments(app);
    // No release yet: releases appear only in the environments the run's deploy tasks deploy to.
    const build = await deps.builder.create(app, envs[0].name, o.source, {
      description: o.description,
      actor: o.actor,
      declaredBytes: o.declaredBytes,
      release: false,
    });
    buildId = build.id;
    if (build.manifest.pipelines !== undefined) {
      const defs = await definePipelines(store, app, build.manifest.pipelines, 'manifest', o.actor);
      def = defs.find((d) => d.name === name) ?? def;
    }
  } else if (buildId) {
    const b = await store.builds.get(app, buildId);
    if (!b) throw notFound.build(app, buildId);
  }
  if (!def)
    throw new RewindError(
      'PIPELINE_NOT_FOUND',
      `${app} has no pipeline "${name}"; define it under pipelines: in rewind.yml or with the API (see "rewind pipelines -a ${app}")`,
    );
  if (def.tasks.some((t) => t.kind === 'build') && !buildId) {
    // The newest build of uploaded source (not a backup's or a template's copy of slugs).
    const latest = (await store.builds.list(app, 50)).find((b) => b.status === 'succeeded' && Object.keys(b.sourceHashes).length > 0);
    if (!latest) throw new RewindError('NO_SOURCE', `pipeline ${name} builds, but no source was given and ${app} has no build yet; pass a source folder`);
    buildId = latest.id;
  }
  return {
    id: newId('P'),
    app,
    pipeline: name,
    definition: def,
    status: 'running',
    build: buildId,
    stories: [...new Set(o.stories)],
    error: null,
    rollbackStatus: 'none',
    rollbackReason: null,
    createdBy: o.actor,
    createdAt: new Date().toISOString(),
    finishedAt: null,
  };
}
