#!/usr/bin/env node
// Architecture rules that the compiler can't check (STYLE.md 6 and 15). Exits non-zero on any breach.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');
const files = [];
(function walk(d) {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.tsx?$/.test(n)) files.push(p);
  }
})(src);

const problems = [];
const importRe = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
for (const file of files) {
  const rel = relative(src, file);
  const layer = rel.split('/')[0];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = relative(src, resolve(dirname(file), spec)).split('/')[0];
    if (layer === 'domain' && !['domain', 'protocol'].includes(target)) problems.push(`${rel}: the domain imports nothing of ours but protocol types, yet imports ${spec}`);
    if (layer === 'agent' && !['agent', 'protocol'].includes(target)) problems.push(`${rel}: the agent shares only protocol types with the control plane, but imports ${spec}`);
    if (layer === 'protocol' && target !== 'protocol') problems.push(`${rel}: protocol types import nothing else, but import ${spec}`);
  }
  if (/\b(execSync|exec)\s*\(/.test(text.replace(/\.exec\(/g, '')) && /child_process/.test(text)) {
    problems.push(`${rel}: runs a shell string (exec/execSync); build an argv array and use execFile/spawn`);
  }
  if (/shell:\s*true/.test(text)) problems.push(`${rel}: spawns with shell: true; build an argv array instead`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`rules ok: ${files.length} files checked`);
