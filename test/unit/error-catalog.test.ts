import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiErrorCodes, errorCodesTable } from '../../src/api/errors.js';
import { ERRORS, type ErrorCode, type ErrorSpec, RewindError, isErrorCode, messageOf, rewindError } from '../../src/domain/errors.js';

const root = join(import.meta.dirname, '..', '..');
const codes = Object.keys(ERRORS) as ErrorCode[];
const spec = (code: ErrorCode): ErrorSpec => ERRORS[code];

/** The rows of docs/errors.md's tables: code → [status, exit, meaning]. */
function documentedRows(): Map<string, [string, string, string]> {
  const rows = new Map<string, [string, string, string]>();
  for (const line of readFileSync(join(root, 'docs', 'errors.md'), 'utf8').split('\n')) {
    const m = /^\| `([A-Z_]+)` \| (.+?) \| (\d) \| (.+) \|$/.exec(line);
    if (m) rows.set(m[1]!, [m[2]!, m[3]!, m[4]!]);
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

describe('the error catalog', () => {
  it('gives exit code 2 exactly to conflicts and availability (409, 503), 1 to every other code', () => {
    for (const code of codes) expect([code, spec(code).exit]).toEqual([code, spec(code).status === 409 || spec(code).status === 503 ? 2 : 1]);
  });

  it('is what docs/errors.md lists, row for row', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const s = spec(code);
      expect([code, ...rows.get(code)!]).toEqual([code, s.cli ? '(CLI only)' : String(s.status), String(s.exit), s.description]);
    }
  });

  it('lists the codes the API answers in the OpenAPI description, and not the CLI-only ones', () => {
    const table = errorCodesTable();
    for (const code of apiErrorCodes()) expect(table).toContain(`| \`${code}\` | ${spec(code).status} |`);
    expect(table).not.toContain('`NO_APP`');
    expect(apiErrorCodes()).not.toContain('NO_APP');
    expect(apiErrorCodes()).toContain('STALE_PLAN');
  });

  it('builds templated errors with the status and exit code of their code', () => {
    const e = rewindError('RELEASE_IN_OTHER_ENV', 'RABCDEFGHIJ', 'staging', 'production');
    expect(e).toBeInstanceOf(RewindError);
    expect([e.code, e.status, e.exitCode]).toEqual(['RELEASE_IN_OTHER_ENV', 400, 1]);
    expect(e.message).toBe('release RABCDEFGHIJ belongs to environment "staging", not "production"; pass -e staging');
    expect(messageOf('APP_NOT_FOUND', 'shop')).toBe('app "shop" does not exist; see "rewind apps" or create it with "rewind apps create shop"');
    expect(new RewindError('DEPLOYMENT_IN_PROGRESS', 'busy').exitCode).toBe(2);
    expect(isErrorCode('STALE_PLAN')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('keeps INVALID_INPUT for requests that do not match their schema: only the HTTP layer raises it', () => {
    const allowed = new Set(['src/api/errors.ts', 'src/api/route-helpers.ts', 'src/agent/agent-server.ts', 'src/domain/errors.ts']);
    const users = sourceFiles(join(root, 'src'))
      .filter((f) => readFileSync(f, 'utf8').includes("'INVALID_INPUT'"))
      .map((f) => f.slice(root.length + 1));
    expect(users.filter((f) => !allowed.has(f))).toEqual([]);
  });
});
