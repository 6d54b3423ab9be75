import { describe, expect, it } from 'vitest';
import { isId } from '../../src/domain/ids.js';
import { makeRelease, primaryBuild, rollbackCopy } from '../../src/domain/release.js';
import { desiredStateFor } from '../../src/engine/desired-state.js';
import { parseManifest } from '../../src/domain/manifest.js';

const manifest = parseManifest('components:\n  web:\n    command: node server.js\n    health: /health\n  worker:\n    command: node worker.js\n');
const base = makeRelease({
  app: 'shop',
  env: 'production',
  kind: 'build',
  builds: { web: 'BAAAAAAAAAA', worker: 'BAAAAAAAAAA' },
  config: { GREETING: 'hi' },
  manifest,
  description: 'build 0a1b2c3d4e5f fix',
  source: null,
  createdBy: 'ann@laptop',
});

describe('releases', () => {
  it('are frozen values with Convox-like ids', () => {
    expect(isId('R', base.id)).toBe(true);
    expect(Object.isFrozen(base)).toBe(true);
    expect(Object.isFrozen(base.builds)).toBe(true);
    expect(() => ((base as { description: string }).description = 'x')).toThrow();
  });

  it('a rollback is a new release copying builds, config and manifest, naming its source', () => {
    const copy = rollbackCopy(base, 'bob@ci');
    expect(copy.id).not.toBe(base.id);
    expect(copy).toMatchObject({
      kind: 'rollback',
      builds: base.builds,
      config: base.config,
      manifest,
      source: base.id,
      description: `rollback to ${base.id}`,
      createdBy: 'bob@ci',
    });
    expect(base.kind).toBe('build');
  });

  it('shows the web build in the BUILD column', () => {
    expect(primaryBuild({ builds: { worker: 'BW', web: 'BWEB' } })).toBe('BWEB');
    expect(primaryBuild({ builds: { worker: 'BW' } })).toBe('BW');
    expect(primaryBuild({ builds: {} })).toBeNull();
  });

  it('desired state: every component with its build, slug, config and health', () => {
    const d = desiredStateFor({
      release: base,
      deployment: 'DAAAAAAAAAA',
      proxyPort: 41000,
      artifacts: new Map([
        ['BAAAAAAAAAA/web', { sha256: 'ab'.repeat(32), path: '/data/a.tar.gz' }],
        ['BAAAAAAAAAA/worker', { sha256: 'cd'.repeat(32), path: '/data/b.tar.gz' }],
      ]),
      drainTimeoutMs: 5000,
    });
    expect(d).toMatchObject({ app: 'shop', env: 'production', release: base.id, deployment: 'DAAAAAAAAAA', proxyPort: 41000, config: { GREETING: 'hi' } });
    expect(d.components.map((c) => [c.name, c.command, c.port, c.build])).toEqual([
      ['web', 'node server.js', true, 'BAAAAAAAAAA'],
      ['worker', 'node worker.js', false, 'BAAAAAAAAAA'],
    ]);
    expect(d.components[0].health.path).toBe('/health');
  });

  it('desired state refuses a build without a slug', () => {
    expect(() => desiredStateFor({ release: base, proxyPort: 1, artifacts: new Map(), drainTimeoutMs: 1 })).toThrow(
      'no artifact for build BAAAAAAAAAA of component web',
    );
  });
});
