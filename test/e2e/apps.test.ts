import { describe, expect, it } from 'vitest';
import { UNAUTHORIZED_MESSAGE } from '../../src/api/auth.js';
import { body, fixtureApp, useDir, useRewind } from './harness.js';

// A server started with REWIND_TOKEN: the CLI needs the token; apps delete stops what the app runs.
describe('tokens and deleting apps', () => {
  const token = { REWIND_TOKEN: 'let-me-in' };
  const rw = useRewind(token);
  const src = useDir(() => fixtureApp({ version: 'v1' }));

  it('refuses a missing or wrong token with one line, and works with the right one', async () => {
    const none = await rw.cli(['apps'], { env: { REWIND_TOKEN: '' } });
    expect(none.code).not.toBe(0);
    expect(none.stderr.trim()).toBe(`error: ${UNAUTHORIZED_MESSAGE}`);
    const wrong = await rw.cli(['apps'], { env: { REWIND_TOKEN: 'nope' } });
    expect(wrong.code).not.toBe(0);
    const ok = await rw.cli(['apps'], { env: token });
    expect(ok.code, ok.stderr).toBe(0);
    // Health and the API description stay open (monitoring, tooling).
    expect((await fetch(`${rw.url}/api/health`)).status).toBe(200);
  });

  it('apps delete stops the app and forgets it', async () => {
    expect((await rw.cli(['apps', 'create', 'gone'], { env: token })).code).toBe(0);
    expect((await rw.cli(['deploy', src.path, '-a', 'gone'], { env: token })).code).toBe(0);
    const app = await fetch(`${rw.url}/api/apps/gone`, { headers: { authorization: 'Bearer let-me-in' } });
    const url = ((await app.json()) as { environments: Array<{ url: string }> }).environments[0].url;
    expect(await body(url)).toContain('version=v1');
    const pids = (await rw.agentState()).apps.find((a) => a.app === 'gone')!.instances.map((i) => i.pid!);

    const del = await rw.cli(['apps', 'delete', 'gone'], { env: token });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout.trim()).toBe('Deleting gone... OK');
    expect((await rw.agentState()).apps.some((a) => a.app === 'gone')).toBe(false);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(fetch(url)).rejects.toThrow();
    const after = await rw.cli(['releases', '-a', 'gone'], { env: token });
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('app "gone" does not exist');
  });
});
