import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { RewindError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { environmentNote } from '../domain/convox-manifest.js';
import { MANIFEST_FILES, buildCommandArgv, readManifestFiles, type Manifest, type ManifestReading } from '../domain/manifest.js';
import { valueOf } from '../domain/records.js';
import type { Build } from '../domain/build.js';
import { IMAGE_ARTIFACT } from '../domain/image-ref.js';
import type { BuildArtifacts, BuildOutput, BuildRecords, BuildResult, ResolveImage } from './ports.js';
import { CappedLog, buildLogPath, logKeepBytes, readBuildLog } from './build-log.js';
import { runProcess } from './run-process.js';
import { type BuildPlan, planComponents } from './build-plan.js';
import { type DeployRelease, deployBuiltRelease, recordBuildRelease } from './build-release.js';

export interface BuilderOptions {
  readonly store: BuildRecords;
  /** Uploads and slugs, and unpacking (with the upload limits), packing and hashing trees. */
  readonly artifacts: BuildArtifacts;
  readonly dataDir: string;
  /** Live build output, keyed by build id. */
  readonly hub: BuildOutput;
  readonly log: Logger;
  readonly maxUploadBytes: number;
  readonly buildTimeoutMs: number;
  /** Bytes of output kept at each end of a build's log (default: REWIND_LOG_KEEP_MB, else 1 MiB). */
  readonly logKeepBytes?: number;
  /** Extra checks of an uploaded manifest before anything is recorded (e.g. its pipelines). */
  readonly checkManifest?: (app: string, manifest: Manifest) => Promise<void>;
  /** Called once a build succeeded and its release exists. */
  readonly afterBuild?: (build: Build, manifest: Manifest) => Promise<void>;
  /** Starts the deployment of a release made by a build that asked for it (`deploy: true`). */
  readonly deployRelease?: DeployRelease;
  /** Pins image components' references where the environment runs; without it an image component is refused. */
  readonly resolveImage?: ResolveImage;
}

/** Turns an uploaded source tarball into a build: validate, run build commands, store the slug, make a release. */
export class Builder {
  private readonly running = new Map<string, Promise<void>>();
  /** Logs of running builds: bounded in memory, streamed to their files. */
  private readonly output = new Map<string, CappedLog>();

  constructor(private readonly options: BuilderOptions) {}

  /** Validates the upload (archive safety, manifest) before recording anything; then builds in the background. */
  /** `release: false` (a pipeline's build): record no release; the pipeline's deploy tasks make them where they deploy. */
  async create(
    app: string,
    env: string,
    body: Readable,
    opts: { description?: string; actor: string; declaredBytes?: number; release?: boolean; deploy?: boolean },
  ): Promise<Build> {
    const { store, artifacts } = this.options;
    if (!(await store.apps.get(app))) throw notFound.app(app);
    if (!(await store.apps.environment(app, env))) throw notFound.env(app, env);
    const upload = await artifacts.receive(body, { maxBytes: this.options.maxUploadBytes, declaredBytes: opts.declaredBytes });
    await mkdir(join(this.options.dataDir, 'builds'), { recursive: true });
    const workDir = await mkdtemp(join(this.options.dataDir, 'builds', 'work-'));
    const plan = await this.readSource({ app, env }, upload, workDir);
    const manifest = plan.reading.manifest;
    const source = await artifacts.putFile(upload.tmpPath);
    const build: Build = {
      id: newId('B'),
      app,
      env,
      status: 'running',
      description: opts.description?.trim() || 'build',
      manifest,
      sourceSha256: source.sha256,
      components: plan.build,
      artifacts: {},
      sourceHashes: plan.hashes,
      release: null,
      error: null,
      deploy: opts.deploy === true && opts.release !== false,
      createdBy: opts.actor,
      createdAt: new Date().toISOString(),
      finishedAt: null,
    };
    try {
      await store.builds.insert(build);
    } catch (e) {
      await rm(workDir, { recursive: true, force: true });
      // The app (or env) was deleted while the upload arrived: its rows are gone, so is the build's.
      if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw (await store.apps.get(app)) ? notFound.env(app, env) : notFound.app(app);
      throw e;
    }
    await store.recordAudit({ actor: opts.actor, action: 'build.create', app, env, subject: build.id, detail: { description: build.description } });
    this.output.set(
      build.id,
      await CappedLog.open(buildLogPath(this.options.dataDir, build.id), this.options.logKeepBytes ?? logKeepBytes(), (text) =>
        this.options.hub.publish(build.id, text),
      ),
    );
    const run = this.run(build, workDir, plan, opts.release !== false)
      .catch((e) => this.options.log.error({ err: e, build: build.id }, 'build crashed'))
      .finally(() => {
        this.running.delete(build.id);
        void this.output.get(build.id)?.close();
        this.output.delete(build.id);
        void rm(workDir, { recursive: true, force: true });
      });
    this.running.set(build.id, run);
    return build;
  }

  /** Output so far of a running build (undefined once it ended: see logs). */
  liveOutput(id: string): string | undefined {
    return this.output.get(id)?.text();
  }

  /** The part of a running build's output its live followers were sent so far (undefined once it ended). */
  followedOutput(id: string): string | undefined {
    return this.output.get(id)?.published();
  }

  /** A build's log: live while it runs, then its file (or, for builds from before log files, the store's copy). */
  async logs(id: string): Promise<string> {
    return this.liveOutput(id) ?? (await readBuildLog(this.options.dataDir, id)) ?? (await this.options.store.builds.logs(id));
  }

  /** Removes the log files of builds that are gone (their app was deleted). */
  async removeLogs(ids: readonly string[]): Promise<void> {
    for (const id of ids) if (!this.output.has(id)) await rm(buildLogPath(this.options.dataDir, id), { force: true });
  }

  async waitFor(id: string): Promise<void> {
    await this.running.get(id);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /** Builds that were running when the server stopped can't be resumed (their work dir is gone): fail them clearly. */
  async recover(): Promise<void> {
    for (const b of await this.options.store.builds.listRunning()) {
      if (this.running.has(b.id)) continue;
      const note = '\n--> build interrupted by a server restart\n';
      const file = await readBuildLog(this.options.dataDir, b.id);
      if (file !== undefined) await appendFile(buildLogPath(this.options.dataDir, b.id), note, { mode: 0o600 });
      const logs = file !== undefined ? '' : (await this.options.store.builds.logs(b.id)) + note;
      await this.options.store.builds.finish(
        b.id,
        { status: 'failed', error: 'interrupted by a server restart; run the build again', logs },
        new Date().toISOString(),
      );
    }
  }

  private write(id: string, text: Buffer | string) {
    this.output.get(id)?.write(text);
  }

  /** Unpacks the upload, reads its manifest and plans its components; on any refusal removes what it made and throws. */
  private async readSource(where: { app: string; env: string }, upload: { size: number; tmpPath: string }, workDir: string): Promise<BuildPlan> {
    try {
      if (upload.size === 0) throw new RewindError('EMPTY_UPLOAD', 'the upload is empty; send a gzip tarball of the source (rewind build DIR does this)');
      await this.options.artifacts.unpack(upload.tmpPath, join(workDir, 'src'));
      const files: Partial<Record<(typeof MANIFEST_FILES)[number], string>> = {};
      for (const f of MANIFEST_FILES) {
        const text = await readFile(join(workDir, 'src', f), 'utf8').catch(() => undefined);
        if (text !== undefined) files[f] = text;
      }
      const reading = readManifestFiles(files);
      await this.options.checkManifest?.(where.app, reading.manifest);
      return await planComponents(this.options, where, join(workDir, 'src'), reading);
    } catch (e) {
      await rm(workDir, { recursive: true, force: true });
      await rm(upload.tmpPath, { force: true });
      throw e;
    }
  }

  /** The build log's first lines: which manifest was read and what it said that Rewind reads differently, or not at all. */
  private async describeManifest(build: Build, reading: ManifestReading): Promise<void> {
    this.write(build.id, `--> manifest: ${reading.file} (${Object.keys(reading.manifest.components).join(', ')})\n`);
    const config = reading.variables.length > 0 ? ((await this.options.store.releases.newest(build.app, build.env))?.config ?? {}) : {};
    for (const note of [...reading.notes, ...environmentNote(reading.variables, config, build.env)]) this.write(build.id, `--> ${note}\n`);
  }

  private async run(build: Build, workDir: string, plan: BuildPlan, withRelease: boolean): Promise<void> {
    const { store } = this.options;
    // The log is in its file, not the database (a build may print gigabytes).
    const finish = async (result: BuildResult) => {
      await this.output.get(build.id)?.close();
      await store.builds.finish(build.id, { ...result, logs: '' }, new Date().toISOString());
      await store.recordAudit({
        actor: build.createdBy,
        action: `build.${result.status}`,
        app: build.app,
        env: build.env,
        subject: build.id,
        detail: result.error ? { error: result.error } : undefined,
      });
      this.options.hub.end(build.id);
    };
    try {
      await this.describeManifest(build, plan.reading);
      for (const [name, id] of Object.entries(plan.reuse)) this.write(build.id, `--> ${name}: unchanged, reusing build ${id}\n`);
      const built = await this.buildComponents(build, workDir, plan);
      if (built.error !== undefined) return await finish({ status: 'failed', error: built.error });
      const slugs = built.slugs;
      const builds = Object.fromEntries(Object.keys(build.manifest.components).map((name) => [name, valueOf(plan.reuse, name) ?? build.id]));
      if (!withRelease) {
        this.write(build.id, `--> build ${build.id} succeeded\n`);
        if (this.options.afterBuild) await this.options.afterBuild(build, build.manifest);
        return await finish({ status: 'succeeded', artifacts: slugs, uses: builds, release: null });
      }
      const release = await recordBuildRelease(store, build, builds);
      this.write(build.id, `--> build ${build.id} succeeded\n--> release ${release.id} created\n`);
      if (this.options.afterBuild) await this.options.afterBuild(build, build.manifest);
      // The build stays running until its deployment has started, so whoever sees it succeed sees that too.
      if (build.deploy) await store.builds.storeSlugs(build.id, slugs, builds);
      const deployed = await deployBuiltRelease(this.options.deployRelease, build, release, (line) => this.write(build.id, line));
      await finish({ status: 'succeeded', artifacts: slugs, uses: builds, release: release.id, ...deployed });
    } catch (e) {
      const error = `the build could not be stored: ${(e as Error).message}`;
      this.write(build.id, `--> ${error}\n`);
      await finish({ status: 'failed', error });
    }
  }

  /** Runs each component's build command (if any) and stores its folder as a slug; component → slug sha256, or why it failed. */
  private async buildComponents(
    build: Build,
    workDir: string,
    plan: BuildPlan,
  ): Promise<{ slugs: Record<string, string>; error?: undefined } | { error: string }> {
    const { artifacts } = this.options;
    const slugs: Record<string, string> = {};
    for (const name of plan.build) {
      const c = build.manifest.components[name];
      const image = valueOf(plan.images, name);
      if (image !== undefined) {
        // An image is not packed: the build records its pin, which a release then runs exactly.
        slugs[name] = `${IMAGE_ARTIFACT}${image}`;
        this.write(build.id, `--> ${c.name}: image ${c.image} pinned as ${image}\n`);
        continue;
      }
      const dir = join(workDir, 'src', c.path ?? '.');
      if (c.build) {
        this.write(build.id, `--> building ${c.name}: ${c.build}\n`);
        const code = await this.runCommand(build, dir, buildCommandArgv(c.build));
        if (code !== 0) {
          const error = code === null ? `the build command of ${c.name} timed out` : `the build command of ${c.name} exited with code ${code}`;
          this.write(build.id, `--> ${error}\n`);
          return { error };
        }
      } else this.write(build.id, `--> ${c.name}: no build command; packaging its files as they are\n`);
      const tmp = join(workDir, `slug-${name}.tar.gz`);
      await artifacts.pack(dir, tmp);
      const slug = await artifacts.putFile(tmp);
      slugs[name] = slug.sha256;
      this.write(build.id, `--> ${c.name}: slug ${slug.sha256.slice(0, 12)} (${Math.ceil(slug.size / 1024)} KiB)\n`);
    }
    return { slugs };
  }

  /** Runs one build command; resolves its exit code, null on timeout. */
  private async runCommand(build: Build, cwd: string, argv: string[]): Promise<number | null> {
    const outcome = await runProcess({
      argv,
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? cwd,
        LANG: process.env.LANG ?? 'C.UTF-8',
        REWIND_APP: build.app,
        REWIND_BUILD: build.id,
        CI: 'true',
      },
      timeoutMs: this.options.buildTimeoutMs,
      onOutput: (chunk) => this.write(build.id, chunk),
    });
    if (outcome.kind === 'exited') return outcome.code;
    if (outcome.kind === 'not-started') {
      this.write(build.id, `${outcome.message}\n`);
      return 127;
    }
    return null;
  }
}
