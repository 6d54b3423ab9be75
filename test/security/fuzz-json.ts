/**
 * JSON for the fuzzer (fuzz-lib.ts): values that JS objects cannot hold (`__proto__` as a plain
 * key, `1e400`), and the safety net every generated body goes through: nothing it carries is
 * ever run as a command, and no config key it sets steers how a process starts.
 */

// ── JSON values that can say what JS objects cannot ────────────────────────────────────────
/** An object as its entries, in order: `__proto__` is an ordinary key here (as it is in JSON text). */
export class Obj {
  constructor(readonly entries: ReadonlyArray<readonly [string, Json]>) {}
}
/** JSON text written as is: `1e400`, `-0`, `1E2`. */
export class Raw {
  constructor(readonly text: string) {}
}
export type Json = null | boolean | number | string | Obj | Raw | readonly Json[];

export function serialize(j: Json): string {
  if (j instanceof Raw) return j.text;
  if (j instanceof Obj) return `{${j.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
  if (Array.isArray(j)) return `[${j.map(serialize).join(',')}]`;
  if (typeof j === 'number' && !Number.isFinite(j)) return String(j); // NaN, Infinity: invalid JSON on purpose
  return JSON.stringify(j);
}

// ── safety ──────────────────────────────────────────────────────────────────────────────────
/** The only commands the fuzzer lets through (anything else is replaced by one of these). */
export const HARMLESS_COMMANDS = ['true', 'exit 3', 'echo hi'] as const;
/** One of those, or a command that does nothing at all (empty, blank, or a shell comment of #s). */
export const isHarmlessCommand = (s: string) => (HARMLESS_COMMANDS as readonly string[]).includes(s) || /^[#]*$/.test(s) || /^\s*$/.test(s);
const harmlessCommand = (s: string) => (isHarmlessCommand(s) ? s : HARMLESS_COMMANDS[s.length % HARMLESS_COMMANDS.length]);
/** Environment variables that change what a process loads or runs. */
const STEERING_ENV =
  /^(PATH|IFS|ENV|BASH_ENV|SHELL|SHELLOPTS|BASHOPTS|PROMPT_COMMAND|HOME|CDPATH|PS4|TMPDIR|HOSTALIASES|LOCALDOMAIN|GCONV_PATH|GLIBC_TUNABLES|MALLOC_.*|LD_.*|DYLD_.*|NODE_.*|NPM_.*|PYTHON.*|PERL.*|RUBY.*|GIT_.*|OPENSSL_.*|SSL_.*|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS)$/i;

/** `j` with every `command` string made harmless and every config key that steers a process renamed. */
export function sanitize(j: Json, parentKey = '', depth = 0): Json {
  if (depth > 64) return null;
  if (Array.isArray(j)) return j.map((v) => sanitize(v, parentKey, depth + 1));
  if (!(j instanceof Obj)) return j;
  const configLike = parentKey === 'set' || parentKey === 'config';
  return new Obj(
    j.entries.map(([k, v]) => {
      const key = configLike && STEERING_ENV.test(k) ? `FUZZ_${k}` : k;
      if (k === 'command' && typeof v === 'string') return [key, harmlessCommand(v)] as const;
      return [key, sanitize(v, k, depth + 1)] as const;
    }),
  );
}
