import { execFile } from 'node:child_process';

/**
 * A build's description from git, like Convox: `build 0a1b2c3d4e5f <commit subject>`,
 * only when the source is a clean git checkout. Commands are data: the argv builders are
 * pure and tested; one executor runs them without a shell.
 */

// fsmonitor would run a program named in the repository's config; never for a describe
const SAFE = ['-c', 'core.fsmonitor=false'];

export const gitArgv = {
  insideWorkTree: (dir: string): string[] => ['git', '-C', dir, ...SAFE, 'rev-parse', '--is-inside-work-tree'],
  /** Changes (staged, unstaged, untracked) under `dir` only. */
  status: (dir: string): string[] => ['git', '-C', dir, ...SAFE, 'status', '--porcelain', '--', '.'],
  /** Full hash, then the subject, of HEAD. */
  head: (dir: string): string[] => ['git', '-C', dir, ...SAFE, 'log', '-1', '--format=%H%n%s', 'HEAD'],
};

/** The description of a build from a clean git checkout in `dir`, or null (not git, dirty, no commit, no git). */
export async function describeGit(dir: string): Promise<string | null> {
  try {
    if ((await run(gitArgv.insideWorkTree(dir))).trim() !== 'true') return null;
    if ((await run(gitArgv.status(dir))).trim() !== '') return null;
    return formatDescription(await run(gitArgv.head(dir)));
  } catch {
    return null;
  }
}

/** `build <12 hex> <subject>` from `git log --format=%H%n%s` output; null if it has no hash. */
export function formatDescription(logOutput: string): string | null {
  const [hash = '', subject = ''] = logOutput.split('\n');
  if (!/^[0-9a-f]{40,64}$/.test(hash.trim())) return null;
  return `build ${hash.trim().slice(0, 12)} ${subject.trim()}`.trimEnd();
}

function run(argv: readonly string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_OPTIONAL_LOCKS: '0' };
  // a caller's GIT_DIR (e.g. inside a hook) would describe another repository
  delete env.GIT_DIR;
  delete env.GIT_WORK_TREE;
  delete env.GIT_INDEX_FILE;
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { env, timeout: 10_000, maxBuffer: 4 * 2 ** 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
