import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { body, useDirs, useRewind } from './harness.js';

/** The manifests people already have (issue 10, items 13-15): convox.yml, a numeric port, a Procfile release: line. */

const server = (listen: string) => `
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  res.end('hello from ' + (process.env.REWIND_COMPONENT || '?') + ' greeting=' + (process.env.GREETING || 'none') + '\\n');
}).listen(${listen}, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;
const worker = `setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));\n`;

async function source(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-manifests-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('the manifests people already have', () => {
  const rw = useRewind();
  const dirs = useDirs();
  const app = async (name: string, files: Record<string, string>) => {
    expect((await rw.cli(['apps', 'create', name])).code).toBe(0);
    const dir = await source(files);
    dirs.push(dir);
    return dir;
  };

  it('deploys a convox.yml app with port: 3000 and a health check, and says what it read', async () => {
    const dir = await app('convoxed', {
      'server.js': server('Number(process.env.PORT)'),
      'worker.js': worker,
      'convox.yml': [
        'environment:',
        '  - GREETING=hi',
        'resources:',
        '  database:',
        '    type: postgres',
        'services:',
        '  web:',
        '    build: .',
        '    command: node server.js',
        '    port: 3000',
        '    health:',
        '      path: /health',
        '      interval: 0.2',
        '    scale:',
        '      count: 1',
        '      memory: 256',
        '  worker:',
        '    command: node worker.js',
        '    internal: true',
        '',
      ].join('\n'),
    });
    const res = await rw.cli(['deploy', dir, '-a', 'convoxed']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toContain('--> manifest: convox.yml (web, worker)\n');
    expect(res.stdout).toContain('--> web: port 3000 in the manifest; Rewind gives it $PORT\n');
    expect(res.stdout).toContain('--> not understood, ignored: resources; in services: scale.memory (web), internal (worker)\n');
    expect(res.stdout).toContain('--> environment: GREETING not set in production (convox.yml defaults are not applied): rewind env set GREETING=hi\n');
    expect(await body(await rw.appUrl('convoxed'))).toBe('hello from web greeting=none\n');
    const ps = await rw.cli(['ps', '-a', 'convoxed']);
    expect(ps.stdout).toMatch(/^\S+ +web +R/m);
    expect(ps.stdout).toMatch(/^\S+ +worker +R/m);
  });

  it('deploys a Procfile app with a release: line, never starting it', async () => {
    const dir = await app('heroku', {
      'server.js': server('Number(process.env.PORT)'),
      Procfile: 'release: node -e "process.exit(1)"\nweb: node server.js\n',
    });
    const res = await rw.cli(['deploy', dir, '-a', 'heroku']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toContain('--> manifest: Procfile (web)\n');
    expect(res.stdout).toContain('--> release: node -e "process.exit(1)" (a release-phase command: not yet supported, not started)\n');
    expect(await body(await rw.appUrl('heroku'))).toBe('hello from web greeting=none\n');
    const ps = await rw.cli(['ps', '-a', 'heroku']);
    expect(ps.stdout).toMatch(/^\S+ +web +R/m);
    expect(ps.stdout).not.toMatch(/^\S+ +release /m);
  });

  it('an app that listens on its own port instead of $PORT fails with "did web listen on $PORT=…?"', async () => {
    const fixed = await freePort();
    const dir = await app('fixed', {
      'server.js': server(String(fixed)),
      'rewind.yml': [
        'components:',
        '  web:',
        '    command: node server.js',
        `    port: ${fixed}`,
        '    health:',
        '      path: /health',
        '      timeout: 3',
        '      interval: 0.2',
        '',
      ].join('\n'),
    });
    const res = await rw.cli(['deploy', dir, '-a', 'fixed']);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toContain(`--> web: port ${fixed} in the manifest; Rewind gives it $PORT\n`);
    const hint = /not healthy within 3s \(GET \/health: ECONNREFUSED; did web listen on \$PORT=(\d+)\?\)/.exec(res.stderr);
    expect(hint, res.stderr).not.toBeNull();
    expect(Number(hint![1])).not.toBe(fixed);
  });
});
