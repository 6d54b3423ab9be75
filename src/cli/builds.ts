import { createReadStream } from 'node:fs';
import { imageOfArtifact } from '../domain/image-ref.js';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { BuildView } from '../contract/index.js';
import { RewindError } from '../domain/errors.js';
import type { Cli, GlobalOptions } from './context.js';
import type { Upload } from './api-transport.js';
import { CliError } from './errors.js';
import { followDeployment, pipeText } from './follow.js';
import { duration, keyValues, relativeTime, table, when } from './format.js';
import { positive } from './options.js';
import { ProgressBar } from './progress.js';

/** `ID  STATUS  RELEASE  CREATED  DESCRIPTION`, newest first as the API returns them. */
export function buildsTable(builds: readonly BuildView[], now: number = Date.now()): string[] {
  return table(
    ['ID', 'STATUS', 'RELEASE', 'CREATED', 'DESCRIPTION'],
    builds.map((b) => [b.id, b.status, b.release ?? '', relativeTime(b.createdAt, now), b.description]),
  );
}

/**
 * One component's build history ("view more versions"): `ID  STATUS  CREATED  DESCRIPTION`, newest
 * first; for an image component also the IMAGE each build pinned (`repo@sha256:0123456789ab`).
 */
export function componentBuildsTable(builds: readonly BuildView[], now: number = Date.now(), component?: string): string[] {
  const imageOf = (b: BuildView) => (component === undefined ? undefined : imageOfArtifact(b.artifacts[component]));
  if (!builds.some((b) => imageOf(b) !== undefined)) {
    return table(
      ['ID', 'STATUS', 'CREATED', 'DESCRIPTION'],
      builds.map((b) => [b.id, b.status, relativeTime(b.createdAt, now), b.description]),
    );
  }
  const short = (image: string | undefined) => image?.replace(/(sha256:[0-9a-f]{12})[0-9a-f]{52}$/, '$1') ?? '';
  return table(
    ['ID', 'STATUS', 'CREATED', 'IMAGE', 'DESCRIPTION'],
    builds.map((b) => [b.id, b.status, relativeTime(b.createdAt, now), short(imageOf(b)), b.description]),
  );
}

export function buildInfo(b: BuildView, now: number = Date.now()): string[] {
  const pairs: [string, string][] = [
    ['Id', b.id],
    ['Status', b.status],
    ['Release', b.release ?? ''],
    ['Environment', b.env],
    ['Components', b.components.join(', ')],
    ['Description', b.description],
    ['Started', when(b.createdAt, now)],
    ['Elapsed', duration((b.finishedAt ? Date.parse(b.finishedAt) : +now) - Date.parse(b.createdAt))],
    ['By', b.createdBy],
    ['Source', b.sourceSha256],
  ];
  if (b.artifactSha256) pairs.push(['Artifact', b.artifactSha256]);
  if (b.error) pairs.push(['Error', b.error]);
  return keyValues(pairs);
}

/** The description: -d, else the clean git checkout's `build <12hex> <subject>`, else the server's default. */
async function describe(cli: Cli, g: GlobalOptions, dir: string, given?: string): Promise<string | undefined> {
  if (given) return given;
  try {
    // The API caps descriptions at 500 characters; a long commit subject is cut, not refused.
    return (await (await cli.capabilities.loadGitDescribe()).describeGit(dir))?.slice(0, 500) ?? undefined;
  } catch (err) {
    // Cosmetic: a build without a description is still a build.
    if (g.verbose) cli.warn(`warning: no git description: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Packs DIR, uploads it (a progress bar on a terminal's stderr), streams the build's logs and
 * returns the succeeded build; a failed build throws `build B… failed: …` after its logs.
 */
export async function buildSource(
  cli: Cli,
  g: GlobalOptions,
  app: string,
  dirArg: string,
  o: { description?: string; deploy?: boolean } = {},
): Promise<BuildView> {
  const desc = await describe(cli, g, resolve(dirArg), o.description);
  const params = { env: g.env, description: desc, ...(o.deploy ? { deploy: true } : {}) };
  const build = await uploadSource(cli, g, dirArg, (upload) => cli.client.createBuild(app, params, upload), 'Starting build');
  const tail = await pipeText(cli, await cli.client.buildLogs(app, build.id, true), { keep: g.json ? 20 : 0 });
  const final = await settled(cli, app, build.id);
  if (final.status !== 'succeeded') {
    for (const line of tail) cli.warn(line);
    throw new RewindError('BUILD_FAILED', `build ${final.id} failed: ${final.error ?? 'no reason given'}`);
  }
  cli.out.line(`Build:   ${final.id}`);
  cli.out.line(`Release: ${final.release ?? ''}`);
  return final;
}

/**
 * Packs DIR (honouring .gitignore and .rewindignore) and uploads it through `send`, with a
 * progress bar on a terminal's stderr: `Packaging source... OK`, `Uploading source... OK`, `NEXT... OK`.
 */
export async function uploadSource<T>(cli: Cli, g: GlobalOptions, dirArg: string, send: (upload: Upload) => Promise<T>, next: string): Promise<T> {
  const out = cli.out;
  const dir = resolve(dirArg);
  const tmp = await mkdtemp(join(tmpdir(), 'rewind-source-'));
  try {
    const file = join(tmp, 'source.tar.gz');
    out.start('Packaging source');
    await (await cli.capabilities.loadSourcePack()).packSource(dir, file, () => {});
    out.done();
    const size = (await stat(file)).size;
    const bar = !g.json && cli.stderrTTY ? new ProgressBar((s) => cli.io.stderr.write(s), 'Uploading source', size) : undefined;
    let uploaded = false;
    const finishUpload = () => {
      if (uploaded) return;
      uploaded = true;
      bar?.clear();
      if (bar) out.start('Uploading source');
      out.done();
      out.start(next);
    };
    if (!bar) out.start('Uploading source');
    async function* body(): AsyncGenerator<Uint8Array> {
      let sent = 0;
      bar?.update(0);
      for await (const chunk of createReadStream(file)) {
        sent += (chunk as Buffer).length;
        bar?.update(sent);
        yield chunk as Buffer;
      }
      finishUpload();
    }
    let result: T;
    try {
      result = await send({ body: body(), length: size });
    } catch (err) {
      bar?.clear();
      throw err;
    }
    finishUpload();
    out.done();
    return result;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The build once it is no longer running (its log stream may end a moment before its status changes). */
async function settled(cli: Cli, app: string, id: string): Promise<BuildView> {
  for (let i = 0; ; i++) {
    const b = await cli.client.getBuild(app, id);
    if (b.status !== 'running') return b;
    if (i >= 60) throw new CliError(`build ${id} is still running after its logs ended; see "rewind builds info ${id} -a ${app}"`);
    await sleep(500);
  }
}

/** The release is kept: the build succeeded; only its deployment was refused. */
function notDeployed(app: string, env: string, build: BuildView): RewindError {
  const why = build.deployError ?? 'the server did not deploy it';
  const promote = `rewind releases promote ${build.release} -a ${app}${env === 'production' ? '' : ` -e ${env}`}`;
  return new RewindError(
    'RELEASE_NOT_DEPLOYED',
    `build ${build.id} made release ${build.release}, but it was not deployed: ${why}; promote it with "${promote}"`,
  );
}

/** `rewind build [DIR]`, `rewind deploy [DIR]`, `rewind builds [--component NAME]`, `builds info BID`, `builds logs BID`. */
export function registerBuilds(program: Command, cli: Cli): void {
  program
    .command('build')
    .argument('[dir]', 'source directory', '.')
    .option('-d, --description <text>', 'build description (default: from git)')
    .description('build DIR into a new release (not promoted)')
    .action(async (dir: string, o: { description?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const build = await buildSource(cli, g, cli.app(g), dir, { description: o.description });
      cli.out.result(build);
    });

  program
    .command('deploy')
    .argument('[dir]', 'source directory', '.')
    .option('-d, --description <text>', 'build description (default: from git)')
    .description('build DIR and deploy the release it makes (one operation on the server)')
    .action(async (dir: string, o: { description?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const app = cli.app(g);
      const build = await buildSource(cli, g, app, dir, { description: o.description, deploy: true });
      if (!build.release) throw new CliError(`build ${build.id} succeeded but made no release`);
      if (!build.deployment) throw notDeployed(app, g.env, build);
      cli.out.start(`Promoting ${build.release}`);
      const deployment = await followDeployment(cli, await cli.client.getDeployment(build.deployment));
      cli.out.done();
      cli.out.result({ build, release: await cli.client.getRelease(app, build.release), deployment });
    });

  const builds = program
    .command('builds')
    .option('--limit <n>', 'how many builds', '20')
    .option('--component <name>', "one component's build history, to pick a build to roll it back to")
    .description('list builds, newest first')
    .action(async (o: { limit: string; component?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const list = await cli.client.listBuilds(cli.app(g), positive(o.limit, '--limit'), o.component);
      cli.out.show(list, o.component ? componentBuildsTable(list, Date.now(), o.component) : buildsTable(list));
    });

  builds
    .command('info')
    .argument('<id>', 'build id (B…)')
    .description('show a build')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const build = await cli.client.getBuild(cli.app(g), id);
      cli.out.show(build, buildInfo(build));
    });

  builds
    .command('logs')
    .argument('<id>', 'build id (B…)')
    .description("print a build's output (following it while it runs)")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cli.globals(cmd);
      const stream = await cli.client.buildLogs(cli.app(g), id, true);
      if (!g.json) {
        await pipeText(cli, stream);
        return;
      }
      let text = '';
      await pipeText(cli, stream, { onText: (t) => (text += t) });
      cli.out.result(text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1));
    });
}
