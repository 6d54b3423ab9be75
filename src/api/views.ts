import { primaryBuild, type Release } from '../domain/release.js';
import type { BuildView, DeploymentView, ReleaseView, TemplateVersionView, TemplateView } from '../contract/index.js';
import type { Build } from '../domain/build.js';
import type { Deployment } from '../domain/deployment.js';
import type { TemplateVersion } from '../domain/template.js';

/** Domain values → API bodies. */
export const views = {
  build(b: Build): BuildView {
    return {
      id: b.id,
      app: b.app,
      status: b.status,
      description: b.description,
      components: b.components,
      sourceSha256: b.sourceSha256,
      artifactSha256: Object.values(b.artifacts)[0] ?? null,
      artifacts: b.artifacts,
      release: b.release,
      env: b.env,
      error: b.error,
      deployment: b.deployment ?? null,
      deployError: b.deployError ?? null,
      createdBy: b.createdBy,
      createdAt: b.createdAt,
      finishedAt: b.finishedAt,
    };
  },
  release(r: Release, active: string | null, marks: readonly string[] = []): ReleaseView {
    return {
      id: r.id,
      app: r.app,
      env: r.env,
      build: primaryBuild(r),
      builds: r.builds,
      kind: r.kind,
      description: r.description,
      status: r.id === active ? 'active' : marks.includes('rolled back') ? 'rolled back' : '',
      config: r.config,
      manifest: r.manifest,
      source: r.source,
      createdBy: r.createdBy,
      createdAt: r.createdAt,
    };
  },
  deployment(d: Deployment): DeploymentView {
    return {
      id: d.id,
      app: d.app,
      env: d.env,
      release: d.release,
      fromRelease: d.fromRelease,
      kind: d.kind === 'recover' ? 'deploy' : d.kind,
      state: d.state,
      error: d.error,
      createdBy: d.createdBy,
      createdAt: d.createdAt,
      finishedAt: d.finishedAt,
    };
  },
  templateVersion(v: TemplateVersion): TemplateVersionView {
    return {
      template: v.template,
      version: v.version,
      sourceApp: v.sourceApp,
      sourceEnv: v.sourceEnv,
      sourceRelease: v.sourceRelease,
      components: Object.keys(v.artifacts),
      note: v.note,
      createdBy: v.createdBy,
      createdAt: v.createdAt,
    };
  },
  /** A template and its versions, newest first. */
  template(name: string, versions: readonly TemplateVersion[]): TemplateView {
    return { name, latest: versions[0]?.version ?? '', versions: versions.map(views.templateVersion) };
  },
};
