#!/usr/bin/env node
// Architecture rules that the compiler can't check (STYLE.md 6 and 15). Exits non-zero on any breach.
// Usage: node scripts/check-rules.mjs [root]   (root: the repo, by default; it holds src/ and web/src/)
//
// The import table: which folders of src/ (and web/src, the folder "web") each folder may import.
// A folder may always import itself. Also a breach: an import of a folder not in the table, any
// cycle between folders, and an import() whose argument is not a string literal (the table could
// not see it). Documented in ARCHITECTURE.md ("import table").
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ALLOWED = {
  domain: [],
  protocol: [],
  contract: ['domain'],
  store: ['domain'],
  artifacts: ['domain'],
  builder: ['domain'],
  targets: ['domain', 'protocol'],
  engine: ['domain', 'store', 'artifacts', 'builder', 'targets', 'protocol'],
  api: ['engine', 'contract', 'domain', 'protocol'],
  cli: ['contract', 'domain', 'protocol'],
  web: ['contract', 'domain'],
  agent: ['protocol'],
  main: '*',
};

function sourceFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  (function walk(d) {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.tsx?$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
    }
  })(dir);
  return out;
}

/** The folder a path belongs to: web for web/src, else the first folder under src/ (null: outside both). */
function folderOf(root, path) {
  const inWeb = relative(join(root, 'web', 'src'), path);
  if (!inWeb.startsWith('..') && !inWeb.startsWith(sep)) return 'web';
  const inSrc = relative(join(root, 'src'), path);
  if (inSrc.startsWith('..')) return null;
  const parts = inSrc.split(sep);
  return parts.length > 1 ? parts[0] : '(src)';
}

const allowedText = (folder) => {
  const a = ALLOWED[folder];
  return a.length ? a.join(', ') : 'nothing of ours';
};

/** Folder cycles in the graph of edges (folder → Set of folders), each as [a, b, ..., a]. */
export function findCycles(graph) {
  const cycles = [];
  const seen = new Set();
  const keyOf = (c) => {
    const body = c.slice(0, -1);
    const i = body.indexOf([...body].sort()[0]);
    return [...body.slice(i), ...body.slice(0, i)].join('>');
  };
  const keys = new Set();
  const state = new Map(); // 1: on the path, 2: done
  const path = [];
  function visit(n) {
    state.set(n, 1);
    path.push(n);
    for (const m of [...(graph.get(n) ?? [])].sort()) {
      if (state.get(m) === 1) {
        const c = [...path.slice(path.indexOf(m)), m];
        const k = keyOf(c);
        if (!keys.has(k)) {
          keys.add(k);
          cycles.push(c);
        }
      } else if (!state.has(m)) visit(m);
    }
    path.pop();
    state.set(n, 2);
    seen.add(n);
  }
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

export function checkRules(root) {
  root = resolve(root);
  const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'web', 'src'))];
  const problems = [];
  const graph = new Map();
  const edgeFiles = new Map(); // "a>b" → first file making that edge
  const staticRe = /(?:^|[\s;}])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;}])import\s*['"]([^'"]+)['"]/g;
  const dynamicRe = /\bimport\(\s*([^)]*?)\s*\)/g;
  for (const file of files) {
    const rel = relative(root, file).split(sep).join('/');
    const folder = folderOf(root, file);
    const text = readFileSync(file, 'utf8');
    // Comments may name imports (`import('x')` in a JSDoc); strip those that begin a line or follow a space (not `'src/*'` or `http://`).
    const code = text.replace(/^\s*\/\*[\s\S]*?\*\//gm, '').replace(/(^|\s)\/\/.*$/gm, '$1');
    if (!(folder in ALLOWED)) problems.push(`${rel}: is in folder ${folder}, which is not in the import table`);
    const specs = [];
    for (const m of code.matchAll(staticRe)) specs.push(m[1] ?? m[2]);
    for (const m of code.matchAll(dynamicRe)) {
      const lit = /^(['"])([^'"]+)\1$/.exec(m[1]);
      if (lit) specs.push(lit[2]);
      else problems.push(`${rel}: import(${m[1]}) has no string literal argument, so the import table cannot check it; write import('<path>')`);
    }
    for (const spec of specs) {
      if (!spec.startsWith('.')) continue;
      const to = folderOf(root, resolve(dirname(file), spec));
      if (to === folder) continue;
      if (to === null || !(to in ALLOWED)) {
        problems.push(`${rel}: imports ${spec}, a folder not in the import table`);
        continue;
      }
      if (!graph.has(folder)) graph.set(folder, new Set());
      graph.get(folder).add(to);
      if (!edgeFiles.has(`${folder}>${to}`)) edgeFiles.set(`${folder}>${to}`, rel);
      const allowed = ALLOWED[folder];
      if (allowed && allowed !== '*' && !allowed.includes(to)) problems.push(`${rel}: imports ${spec}, but ${folder} may import only ${allowedText(folder)}`);
    }
    if (/\b(execSync|exec)\s*\(/.test(text.replace(/\.exec\(/g, '')) && /child_process/.test(text)) {
      problems.push(`${rel}: runs a shell string (exec/execSync); build an argv array and use execFile/spawn`);
    }
    if (/shell:\s*true/.test(text)) problems.push(`${rel}: spawns with shell: true; build an argv array instead`);
  }
  for (const c of findCycles(graph)) {
    const via = c
      .slice(0, -1)
      .map((f, i) => `${f} → ${c[i + 1]} (${edgeFiles.get(`${f}>${c[i + 1]}`)})`)
      .join(', ');
    problems.push(`cycle between folders: ${c.join(' → ')}: ${via}`);
  }
  return { files: files.length, problems };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { files, problems } = checkRules(root);
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  console.log(`rules ok: ${files} files checked`);
}
