import { beforeAll, describe, expect, it } from 'vitest';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { okRelease, servedVersions, setShopVersion, shopApp, useDir, useRewind } from './harness.js';

// Rainbond (seeds/004): roll one component back to any earlier succeeded build from its build
// history, or several components at once.
const BOTH = ['web', 'api'] as const;
const CHECK = `if (require('fs').existsSync('FAIL')) { console.error('web: refusing to build (FAIL marker)'); process.exit(1); }\n`;

describe('rolling back one component (Rainbond)', () => {
  const rw = useRewind();
  const src = useDir(() => shopApp({ components: BOTH, versions: { web: 'v1', api: 'v1' } }));
  beforeAll(async () => {
    // web gets a build step that fails while web/FAIL exists.
    const manifest = join(src.path, 'rewind.yml');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('    path: web\n', '    path: web\n    build: node check.js\n'));
    await writeFile(join(src.path, 'web', 'check.js'), CHECK);
  });

  const buildIn = (stdout: string) => /^Build:\s+(B[A-Z]{10})$/m.exec(stdout)![1];
  /** `rewind builds --component NAME` as rows: id, status, description. */
  async function history(component: string) {
    const r = await rw.ok(['builds', '-a', 'rain', '--component', component]);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+CREATED\s+DESCRIPTION$/);
    return rows.map((line) => {
      const m = /^(B[A-Z]{10})\s+(\S+)\s+.*?\s{2}(\S.*)$/.exec(line)!;
      return { id: m[1], status: m[2], description: m[3] };
    });
  }
  const deploymentCount = async () => (await rw.api<unknown[]>('/api/apps/rain/deployments?env=production')).body.length;

  it('deploys web v1 then v2, rolls web back to v1 from its history, refuses failed and foreign builds, moves two at once', async () => {
    await rw.ok(['apps', 'create', 'rain']);
    const b1 = buildIn((await rw.ok(['deploy', src.path, '-a', 'rain', '-d', 'web v1, api v1'])).stdout);
    await setShopVersion(src.path, 'web', 'v2');
    const b2 = buildIn((await rw.ok(['deploy', src.path, '-a', 'rain', '-d', 'web v2'])).stdout);
    expect(await servedVersions(rw, 'rain', 'production', BOTH)).toEqual({ web: 'v2', api: 'v1' });

    // "View more versions": web's builds, newest first; pick v1's from the list.
    const webHistory = await history('web');
    expect(webHistory).toEqual([
      { id: b2, status: 'succeeded', description: 'web v2' },
      { id: b1, status: 'succeeded', description: 'web v1, api v1' },
    ]);
    const v1 = webHistory.find((b) => b.description.startsWith('web v1'))!.id;

    const before = await deploymentCount();
    const rb = await rw.ok(['releases', 'rollback', '-a', 'rain', '--component', `web=${v1}`]);
    expect(rb.stdout.split('\n')[0]).toBe(`Rolling back web to ${v1}...`);
    expect(await servedVersions(rw, 'rain', 'production', BOTH)).toEqual({ web: 'v1', api: 'v1' });
    expect(await deploymentCount()).toBe(before + 1);

    // A failed build of web is listed in its history and refused with the reason.
    await writeFile(join(src.path, 'web', 'FAIL'), 'x');
    await setShopVersion(src.path, 'web', 'v3');
    const failed = await rw.fails(['deploy', src.path, '-a', 'rain', '-d', 'web v3 (broken)']);
    const bad = /build (B[A-Z]{10}) failed/.exec(failed.stderr)![1];
    await unlink(join(src.path, 'web', 'FAIL'));
    expect((await history('web'))[0]).toEqual({ id: bad, status: 'failed', description: 'web v3 (broken)' });
    const refusedFailed = await rw.fails(['releases', 'rollback', '-a', 'rain', '--component', `web=${bad}`]);
    expect(refusedFailed.stderr).toBe(`error: build ${bad} failed; only a succeeded build of web can be rolled back to\n`);

    // A build of another component (api alone) is not a build of web.
    await setShopVersion(src.path, 'web', 'v1');
    await setShopVersion(src.path, 'api', 'v2');
    const b3 = buildIn((await rw.ok(['deploy', src.path, '-a', 'rain', '-d', 'api v2'])).stdout);
    expect(await servedVersions(rw, 'rain', 'production', BOTH)).toEqual({ web: 'v1', api: 'v2' });
    const refusedForeign = await rw.fails(['releases', 'rollback', '-a', 'rain', '--component', `web=${b3}`]);
    expect(refusedForeign.stderr).toMatch(
      new RegExp(`^error: build ${b3} is not a build of web \\(it built api\\); see "rewind builds -a rain --component web"\\n$`),
    );
    expect(await servedVersions(rw, 'rain', 'production', BOTH)).toEqual({ web: 'v1', api: 'v2' });

    // Two components at once: one release, one deployment.
    const n = await deploymentCount();
    const two = await rw.ok(['releases', 'rollback', '-a', 'rain', '--component', `web=${b2}`, '--component', `api=${b1}`]);
    const made = okRelease(two.stdout)!;
    expect(await deploymentCount()).toBe(n + 1);
    expect(await servedVersions(rw, 'rain', 'production', BOTH)).toEqual({ web: 'v2', api: 'v1' });
    const { body } = await rw.api<{ builds: Record<string, string>; description: string }>(`/api/apps/rain/releases/${made}`);
    expect(body.builds).toEqual({ web: b2, api: b1 });
  });
});
