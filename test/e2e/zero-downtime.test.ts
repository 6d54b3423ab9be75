import { describe, expect, it } from 'vitest';
import autocannon from 'autocannon';
import { fixtureApp, releaseIdIn, useDirs, useRewind } from './harness.js';

// 20 deploy/rollback switches under a steady load from a real load generator: not one failed request.
describe('zero-downtime switches under load', () => {
  const rw = useRewind({ REWIND_DRAIN_TIMEOUT_MS: '5000' });
  const dirs = useDirs();

  it('20 switches at ~300 req/s: 0 errors, 0 non-2xx', async () => {
    const v1 = await fixtureApp({ version: 'v1' });
    const v2 = await fixtureApp({ version: 'v2' });
    dirs.push(v1, v2);
    expect((await rw.cli(['apps', 'create', 'load'])).code).toBe(0);
    const d1 = await rw.cli(['deploy', v1, '-a', 'load']);
    const d2 = await rw.cli(['deploy', v2, '-a', 'load']);
    expect(d1.code, d1.stderr).toBe(0);
    expect(d2.code, d2.stderr).toBe(0);
    const r1 = releaseIdIn(d1.stdout)!;
    const url = await rw.appUrl('load');

    let stop = false;
    const seen = new Set<string>();
    // Without a callback autocannon returns its instance (an emitter that is also thenable); @types/autocannon types only the promise.
    const load = autocannon({ url, connections: 10, overallRate: 300, duration: 120, timeout: 10 }) as unknown as autocannon.Instance;
    load.on('response', () => {});
    const switches = (async () => {
      try {
        for (let i = 0; i < 20; i++) {
          const res = i % 2 === 0 ? await rw.cli(['releases', 'rollback', r1, '-a', 'load']) : await rw.cli(['releases', 'rollback', '-a', 'load']);
          expect(res.code, res.stderr).toBe(0);
          seen.add((await (await fetch(url)).text()).trim());
        }
      } finally {
        stop = true;
        load.stop();
      }
    })();
    const result = await new Promise<autocannon.Result>((resolve) => load.on('done', resolve));
    await switches;
    expect(stop).toBe(true);
    expect(result.requests.total).toBeGreaterThan(1000);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx).toBe(0);
    expect([...seen].some((s) => s.includes('v1'))).toBe(true);
    expect([...seen].some((s) => s.includes('v2'))).toBe(true);
  });
});
