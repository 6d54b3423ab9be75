import { randomInt } from 'node:crypto';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Id prefixes, Convox style: B… builds, R… releases, D… deployments. */
export type IdPrefix = 'B' | 'R' | 'D' | 'P' | 'U';

/** A new id: the prefix and ten upper-case letters from a CSPRNG (26^10 ≈ 1.4e14). */
export function newId(prefix: IdPrefix): string {
  let out = prefix;
  for (let i = 0; i < 10; i++) out += LETTERS[randomInt(26)];
  return out;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return value.length === 11 && value[0] === prefix && /^[A-Z]{10}$/.test(value.slice(1));
}

export const APP_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const ENV_NAME = /^[a-z][a-z0-9-]{0,30}$/;
export const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
