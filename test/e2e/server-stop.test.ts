/**
 * Ctrl-C (SIGTERM) stops `rewind server` even while streams that never end by themselves are
 * open: the console's live events and a running `rewind exec`, whose command is stopped with it.
 */
import { rm } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { isAlive } from '../../src/agent/proc-info.js';
import { fixtureApp, startExec, useRewind } from './harness.js';

const rw = useRewind();
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("stops on SIGTERM with the console's event stream and an exec stream open, and the exec's command stops too", async () => {
  dir = await fixtureApp({ version: 'v1' });
  expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
  expect((await rw.cli(['deploy', dir, '-a', 'shop'])).code).toBe(0);

  const events = new AbortController();
  const live = await rw.fetch('/api/events', { signal: events.signal });
  expect(live.status).toBe(200);
  const exec = await startExec(rw.url, 'shop', 'sleep 60', rw.authHeaders);

  const stopping = Date.now();
  await rw.killServer('SIGTERM');
  // Requests in flight get 2 s; the streams are cut then. Well under the harness's own patience.
  expect(Date.now() - stopping).toBeLessThan(15_000);
  const deadline = Date.now() + 10_000;
  while (isAlive(exec.started.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(isAlive(exec.started.pid)).toBe(false);
  events.abort();
  exec.hangUp();
}, 60_000);
