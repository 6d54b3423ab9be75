import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Rewind's version, from its package.json. */
export function version(): string {
  try {
    const pkg = fileURLToPath(new URL('../../package.json', import.meta.url));
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
