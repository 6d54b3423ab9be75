import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRelease, type Release } from '../../src/domain/release.js';
import { parseManifest } from '../../src/domain/manifest.js';
import { prebuiltBuild, usesOf, type Build } from '../../src/store/builds-repo.js';
import { Store } from '../../src/store/store.js';

// docs/rollbacks.md, "Which config a change uses": the environment's config is its active
// release's; while it runs nothing, its newest release's. And which slug each component of a build runs.

const manifest = parseManifest('components:\n  web:\n    command: node server.js\n');

describe("an environment's current config", () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-current-'));
    store = await Store.openSqlite(dir);
    await store.apps.create('shop', { name: 'production', proxyPort: 40001 }, new Date().toISOString());
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function release(kind: Release['kind'], config: Record<string, string>, runs: boolean): Promise<Release> {
    const r = makeRelease({
      app: 'shop',
      env: 'production',
      kind,
      builds: runs ? { web: 'BAAAAAAAAAA' } : {},
      config,
      manifest: runs ? manifest : null,
      description: kind,
      source: null,
      createdBy: 't',
    });
    await store.releases.insert(r);
    return r;
  }

  it('is the newest release’s before anything ran (variables set before the first deploy wait for it)', async () => {
    expect(await store.releases.current('shop', 'production')).toBeUndefined();
    const early = await release('env', { A: '1' }, false);
    expect((await store.releases.current('shop', 'production'))?.id).toBe(early.id);
  });

  it('is the active release’s once one runs, whatever was built or staged after it', async () => {
    const live = await release('build', { A: '1' }, true);
    await store.apps.setActiveRelease('shop', 'production', live.id);
    await release('build', { A: '1' }, true); // built, its deploy refused
    await release('env', { A: '1', STAGED: '1' }, true); // env set --no-promote
    expect((await store.releases.current('shop', 'production'))?.id).toBe(live.id);
  });

  it('is the newest release’s again after a rollback to empty (the variables are kept for the next deploy)', async () => {
    await release('build', { A: '1' }, true);
    const empty = await release('rollback', { A: '1' }, false);
    await store.apps.setActiveRelease('shop', 'production', empty.id);
    const later = await release('env', { A: '2' }, false);
    expect((await store.releases.current('shop', 'production'))?.id).toBe(later.id);
  });
});

describe('the slug each component of a build runs', () => {
  const build = (o: Partial<Build>): Build => ({
    ...prebuiltBuild({ app: 'shop', env: 'production', description: 'b', manifest, artifacts: { web: 'sha' }, actor: 't' }),
    ...o,
  });

  it('is what the build recorded: its own components, and the earlier builds it reused', () => {
    const b = build({ id: 'BNEW', components: [], artifacts: {}, uses: { web: 'BOLD' } });
    expect(usesOf(b)).toEqual({ web: 'BOLD' });
  });

  it('for a build recorded before that was kept, its release’s builds, else its own components', () => {
    const old = build({ id: 'BOLD2', components: ['web'], uses: {} });
    expect(usesOf(old, { builds: { web: 'BREUSED' } })).toEqual({ web: 'BREUSED' });
    expect(usesOf(old)).toEqual({ web: 'BOLD2' });
  });

  it('is the build itself for a backup or template copy of slugs', () => {
    const b = prebuiltBuild({ app: 'shop', env: 'production', description: 'backup', manifest, artifacts: { web: 'sha' }, actor: 't' });
    expect(usesOf(b)).toEqual({ web: b.id });
  });
});
