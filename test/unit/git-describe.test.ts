import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeGit, formatDescription, gitArgv } from '../../src/builder/git-describe.js';

describe('git argv builders', () => {
  it('build argv arrays, no shell', () => {
    expect(gitArgv.insideWorkTree('/src/my app')).toEqual(['git', '-C', '/src/my app', '-c', 'core.fsmonitor=false', 'rev-parse', '--is-inside-work-tree']);
    expect(gitArgv.status('/src')).toEqual(['git', '-C', '/src', '-c', 'core.fsmonitor=false', 'status', '--porcelain', '--', '.']);
    expect(gitArgv.head('/src')).toEqual(['git', '-C', '/src', '-c', 'core.fsmonitor=false', 'log', '-1', '--format=%H%n%s', 'HEAD']);
  });

  it('formats the description', () => {
    const h = '0a1b2c3d4e5f'.padEnd(40, '9');
    expect(formatDescription(`${h}\nfix the login page\n`)).toBe('build 0a1b2c3d4e5f fix the login page');
    expect(formatDescription(`${h}\n\n`)).toBe('build 0a1b2c3d4e5f');
    expect(formatDescription('')).toBeNull();
    expect(formatDescription('fatal: bad revision\n')).toBeNull();
  });
});

describe('describeGit', () => {
  let dir: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rewind-git-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is null outside a git work tree', async () => {
    expect(await describeGit(dir)).toBeNull();
  });

  it('is null for a repository without commits', async () => {
    git('init', '-q');
    expect(await describeGit(dir)).toBeNull();
  });

  it('describes a clean checkout, and is null once it is dirty', async () => {
    git('init', '-q');
    writeFileSync(join(dir, 'a.txt'), 'a');
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'server.js'), 's');
    git('add', '.');
    git('commit', '-q', '-m', 'Ship the new “hello” page', '-m', 'body text');
    const head = git('rev-parse', 'HEAD').trim();
    expect(await describeGit(dir)).toBe(`build ${head.slice(0, 12)} Ship the new “hello” page`);
    expect(await describeGit(join(dir, 'app'))).toBe(`build ${head.slice(0, 12)} Ship the new “hello” page`);

    // a change elsewhere in the repository does not make app/ dirty
    writeFileSync(join(dir, 'a.txt'), 'changed');
    expect(await describeGit(dir)).toBeNull();
    expect(await describeGit(join(dir, 'app'))).toBe(`build ${head.slice(0, 12)} Ship the new “hello” page`);

    // untracked files count as changes
    writeFileSync(join(dir, 'app', 'new.js'), 'n');
    expect(await describeGit(join(dir, 'app'))).toBeNull();
  });

  it('ignores files that git ignores', async () => {
    git('init', '-q');
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'x.js'), '');
    expect(await describeGit(dir)).toMatch(/^build [0-9a-f]{12} init$/);
  });
});
