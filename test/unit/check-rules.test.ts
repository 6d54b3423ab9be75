import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'check-rules.mjs');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fixture repo: path (under the root) → file text. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'rewind-rules-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [script, root], (err, stdout, stderr) => done({ code: err ? (err.code as number) : 0, out: stdout + stderr }));
  });
}

const clean = {
  // Comments and strings that look like imports are not imports.
  'src/domain/ids.ts':
    "/** Not loaded with import(name) nor from '../engine/engine.js'. */\nexport const id = 'src/*'; // import(id)\nexport const url = 'http://x/*';\n",
  'src/engine/engine.ts': "import { id } from '../domain/ids.js';\nexport const e = () => import('../store/store.js');\nexport { id };\n",
  'src/store/store.ts': "import type { id } from '../domain/ids.js';\nexport type S = typeof id;\n",
  'src/main/rewind.ts': "import '../engine/engine.js';\nimport { x } from '../agent/a.js';\nexport { x };\n",
  'src/agent/a.ts': "import { p } from '../protocol/p.js';\nexport const x = p;\n",
  'src/protocol/p.ts': 'export const p = 1;\n',
  'web/src/app.tsx': "import type { View } from '../../src/contract/index.js';\nexport type V = View;\n",
  'src/contract/index.ts': "import type { T } from '../domain/ids.js';\nexport type View = T;\n",
};

describe('check-rules', () => {
  it('passes a clean tree', async () => {
    const r = await check(tree(clean));
    expect(r.out).toContain('rules ok: 8 files checked');
    expect(r.code).toBe(0);
  });

  const cases: { name: string; files: Record<string, string>; says: string[] }[] = [
    {
      name: 'a forbidden edge',
      files: { ...clean, 'src/cli/main.ts': "import { e } from '../engine/engine.js';\nexport { e };\n" },
      says: ['src/cli/main.ts: imports ../engine/engine.js, but cli may import only contract, domain, protocol'],
    },
    {
      name: 'a cycle between folders',
      files: { ...clean, 'src/store/cyc.ts': "export { e } from '../engine/engine.js';\n", 'src/domain/cyc.ts': "import '../protocol/p.js';\n" },
      says: ['cycle between folders: engine → store → engine', 'src/domain/cyc.ts: imports ../protocol/p.js, but domain may import only nothing of ours'],
    },
    {
      name: 'a dynamic import without a string literal',
      files: { ...clean, 'src/engine/lazy.ts': "const where = '../api/app.js';\nexport const load = () => import(where);\n" },
      says: ['src/engine/lazy.ts: import(where) has no string literal argument'],
    },
    {
      name: 'a folder not in the table',
      files: { ...clean, 'src/extra/x.ts': 'export const x = 1;\n', 'src/engine/uses.ts': "import { x } from '../extra/x.js';\nexport { x };\n" },
      says: [
        'src/extra/x.ts: is in folder extra, which is not in the import table',
        'src/engine/uses.ts: imports ../extra/x.js, a folder not in the import table',
      ],
    },
  ];
  it.each(cases)('reports $name', async ({ files, says }) => {
    const r = await check(tree(files));
    expect(r.code).toBe(1);
    for (const line of says) expect(r.out).toContain(line);
    expect(r.out).not.toContain('rules ok');
  });
});
