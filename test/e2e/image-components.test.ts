/** Image components on the local target (issue 12 item 1): refused in one line, before anything is recorded. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDirs, useRewind } from './harness.js';

describe('an image component on the local target', () => {
  const rw = useRewind();
  const dirs = useDirs();

  it('refuses the build in one line that says what to do, and records no build', async () => {
    await rw.ok(['apps', 'create', 'imaged']);
    const dir = await mkdtemp(join(tmpdir(), 'rewind-image-'));
    dirs.push(dir);
    await writeFile(join(dir, 'rewind.yml'), "components:\n  web:\n    image: 'rewind-test/web:1.12'\n    port: 80\n    health: /health\n");
    const r = await rw.fails(['deploy', dir, '-a', 'imaged']);
    expect(r.stderr.trim().split('\n')[0]).toBe(
      'error: component web is an image (rewind-test/web:1.12); images run on a swarm target: create the environment with --target',
    );
    expect(r.code).toBe(1);
    expect((await rw.ok(['builds', '-a', 'imaged'])).stdout).not.toMatch(/B[A-Z]{10}/);
  });

  it('refuses an image with a command in one line with its line number', async () => {
    await rw.ok(['apps', 'create', 'imaged2']);
    const dir = await mkdtemp(join(tmpdir(), 'rewind-image-'));
    dirs.push(dir);
    await writeFile(join(dir, 'rewind.yml'), 'components:\n  web:\n    image: nginx:1.12\n    command: nginx\n');
    const r = await rw.fails(['deploy', dir, '-a', 'imaged2']);
    expect(r.stderr).toContain('rewind.yml:3: components.web has both image and command; an image component runs its image and has no command');
  });
});
