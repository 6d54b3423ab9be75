/**
 * The fuzzer's generators (issue 9): for each operation of /api/openapi.json, and each route of
 * the agent, a fast-check arbitrary of requests that are schema-valid or near misses (wrong
 * types, out-of-range and non-finite numbers, huge, unicode and empty strings, prototype keys,
 * extra fields, deep nesting, invalid JSON, encoded and `..` path segments), mixed with real
 * names and ids so that requests reach the engine and the agent. Used by fuzz-run.ts, hence by
 * fuzz.test.ts (`npm test`) and, with REWIND_FUZZ_COUNT, by `npm run fuzz`.
 *
 * Safety: nothing generated is ever run as a shell command. Every body goes through `sanitize`
 * (fuzz-json.ts: each `command` field is one of a fixed harmless set, config keys that steer a
 * process such as PATH, LD_*, NODE_OPTIONS are renamed), and uploads are fixed tarballs.
 */
import fc from 'fast-check';
import type { Json } from './fuzz-json.js';
import { HARMLESS_COMMANDS, Obj, Raw, sanitize, serialize } from './fuzz-json.js';

// ── schemas ─────────────────────────────────────────────────────────────────────────────────
/** The part of JSON Schema that /api/openapi.json uses. */
export interface Schema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly nullable?: boolean;
}

/** Real names and ids by field name (`app`, `env`, `release`, `builds.id`, …), so requests go deep. */
export type Pools = Readonly<Record<string, readonly (string | number)[]>>;

/** How to generate: from which pools, and whether near misses are mixed in (`wild`) or not. */
interface Gen {
  readonly pools: Pools;
  readonly wild: boolean;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'isPrototypeOf', '__defineGetter__'];

/** Strings that have broken parsers, routers, SQL and file paths before. */
const nastyString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '.',
      '..',
      '../..',
      '../../etc/passwd',
      '/etc/shadow',
      '%2e%2e',
      '%',
      '%zz',
      '%00',
      '%ff%fe',
      '%c0%af',
      'null',
      'undefined',
      'NaN',
      'Infinity',
      '-1',
      '1e400',
      'true',
      '[]',
      '{}',
      '💥',
      '\u202e',
      '\ud800',
      'İ',
      'a\nb',
      '\r\n',
      '<script>',
      "' OR 1=1 --",
      '${HOME}',
      '$(id)',
      'SHOP',
      'shop ',
      'shop/production',
      `R${'A'.repeat(10)}`,
      'R0000000000',
      ...PROTO_KEYS,
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '💥', 'a-'), fc.integer({ min: 64, max: 70_000 })).map(([c, n]) => c.repeat(n)) },
);

const nastyNumber: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(0, -1, 1.5, 0.0001, -0.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e21, Number.MAX_VALUE, 5e-324),
  fc.constantFrom(new Raw('1e400'), new Raw('-1e400'), new Raw('-0'), new Raw('1E2'), new Raw('1.0'), new Raw('0.1e1')),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** A value of the wrong type, or of the right type where it hurts. */
export const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 2, arbitrary: fc.constantFrom<Json>(null, true, false, [], new Obj([]), [null], [1, 'a']) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS).map((k) => new Obj([[k, new Obj([['polluted', true]])]])) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 60 }).map((n) => nest(n)) },
);

/** n levels of `{"a":[…]}` as a value (the raw-text nesting, far deeper, is in `junkBody`). */
function nest(n: number): Json {
  let v: Json = 1;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : new Obj([['a', v]]);
  return v;
}

const typesOf = (s: Schema): readonly string[] => (s.type === undefined ? [] : typeof s.type === 'string' ? [s.type] : s.type);

/** Schema-valid values (mostly: strings within bounds, from the pools when the field has one). */
function validValue(s: Schema, key: string, g: Gen, depth: number): fc.Arbitrary<Json> {
  if (s.enum?.length) return fc.constantFrom(...(s.enum as Json[]));
  if (s.anyOf?.length) return fc.oneof(...s.anyOf.map((a) => value(a, key, g, depth)));
  if (s.nullable) return fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: validValue({ ...s, nullable: false }, key, g, depth) });
  const types = typesOf(s);
  if (types.length > 1) return fc.oneof(...types.map((t) => validValue({ ...s, type: t }, key, g, depth)));
  const pool = g.pools[key];
  switch (types[0]) {
    case 'string': {
      const lo = s.minLength ?? 0;
      const hi = Math.max(lo, Math.min(s.maxLength ?? 24, 64));
      const strings = pool?.filter((p): p is string => typeof p === 'string') ?? [];
      return fc.oneof(
        { weight: strings.length ? 6 : 0, arbitrary: strings.length ? fc.constantFrom(...strings) : fc.constant('') },
        { weight: g.wild || !strings.length ? 2 : 1, arbitrary: fc.string({ minLength: lo, maxLength: hi }) },
        { weight: g.wild || !strings.length ? 1 : 0, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/) },
      );
    }
    case 'integer':
    case 'number': {
      const numbers = pool?.filter((p): p is number => typeof p === 'number') ?? [];
      const min = s.minimum ?? -1000;
      const max = s.maximum ?? 100_000;
      return fc.oneof(
        { weight: numbers.length ? 4 : 0, arbitrary: numbers.length ? fc.constantFrom(...numbers) : fc.constant(0) },
        { weight: 3, arbitrary: types[0] === 'integer' ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(min, max) },
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return depth > 6 ? fc.constant([]) : fc.array(value(s.items ?? {}, key, g, depth + 1), { maxLength: Math.min(s.maxItems ?? 4, 4) });
    case 'object':
      return objectValue(s, key, g, depth);
    default:
      // No type: anything (a pipeline definition has its own generator, in CUSTOM).
      return depth > 6 ? fc.constant(null) : fc.oneof(nastyValue, objectValue({ additionalProperties: {} }, key, g, depth + 1));
  }
}

/** Valid; when wild, a near miss one time in six. */
function value(s: Schema, key: string, g: Gen, depth = 0): fc.Arbitrary<Json> {
  const custom = CUSTOM[key];
  const valid = custom ? custom(g) : validValue(s, key, g, depth);
  return g.wild ? fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: nastyValue }) : valid;
}

/** An object: its known fields (required ones nearly always), map entries, extra fields now and then. */
function objectValue(s: Schema, key: string, g: Gen, depth: number): fc.Arbitrary<Json> {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  const extra = typeof s.additionalProperties === 'object' ? s.additionalProperties : null;
  const known = props.map(([k, ps]) =>
    fc.tuple(fc.integer({ min: 0, max: 19 }), value(ps, k, g, depth + 1)).map(([roll, v]) => {
      // Required fields are left out 1 time in 20 (wild), optional ones half the time.
      const keep = required.has(k) ? roll > 0 || !g.wild : roll >= 10;
      return keep ? ([[k, v]] as Array<readonly [string, Json]>) : [];
    }),
  );
  const keyPool = (extra ? g.pools[`${key}.key`] : undefined)?.filter((p): p is string => typeof p === 'string') ?? [];
  const extraKey = fc.oneof(
    { weight: g.wild || !keyPool.length ? 3 : 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: keyPool.length ? 4 : 0, arbitrary: keyPool.length ? fc.constantFrom(...keyPool) : fc.constant('x') },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: nastyString },
  );
  const extras = fc.array(fc.tuple(extraKey, extra ? value(extra, `${key}.value`, g, depth + 1) : nastyValue), { maxLength: extra ? 5 : 2 });
  return fc
    .tuple(fc.tuple(...known), fc.integer({ min: 0, max: 9 }), extras)
    .map(([fields, roll, more]) => new Obj([...fields.flat(), ...(extra || (roll === 0 && g.wild) ? more : [])]));
}

/** Fields whose schema says little (`pipelines` is "anything"): shaped values of their own. */
const CUSTOM: Record<string, (g: Gen) => fc.Arbitrary<Json>> = {
  pipelines: (g) => {
    const env = fc.constantFrom(...((g.pools.env as string[] | undefined) ?? ['production']), 'nope', '');
    const task: fc.Arbitrary<Json> = fc.oneof(
      fc.constantFrom<Json>('build', 'approval', 'deploy', 'run', 'bogus', 7, null),
      env.map((e) => new Obj([['deploy', new Obj([['env', e]])]])),
      fc.tuple(env, fc.boolean(), fc.constantFrom('runtime', 'design', 'x')).map(
        ([e, b, m]) =>
          new Obj([
            [
              'deploy',
              new Obj([
                ['env', e],
                ['enableRollback', b],
                ['autoRollback', b],
                ['mode', m],
              ]),
            ],
          ]),
      ),
      fc.tuple(env, env).map(
        ([a, b]) =>
          new Obj([
            [
              'promote',
              new Obj([
                ['from', a],
                ['to', b],
              ]),
            ],
          ]),
      ),
      fc.tuple(env, fc.constantFrom<Json>(...HARMLESS_COMMANDS, 5, null, ['true'], ''), fc.constantFrom<Json>(1, 5, 0, -1, 1e9, 'x', new Raw('1e400'))).map(
        ([e, c, t]) =>
          new Obj([
            [
              'run',
              new Obj([
                ['command', c],
                ['env', e],
                ['timeout', t],
              ]),
            ],
          ]),
      ),
      fc.tuple(fc.constantFrom('approval', 'build'), nastyValue).map(([k, v]) => new Obj([[k, v]])),
      nastyValue,
    );
    const names = fc.oneof(fc.constantFrom('release', 'ship', 'p2', ...PROTO_KEYS), nastyString);
    return fc.oneof(
      fc.array(fc.tuple(names, fc.array(task, { maxLength: 4 })), { maxLength: 3 }).map((e) => new Obj(e)),
      nastyValue,
    );
  },
};

// ── requests ────────────────────────────────────────────────────────────────────────────────
export type AuthMode = 'valid' | 'none' | 'wrong' | 'malformed' | 'cookie';

/** One generated request; the credential is filled in when it is sent (`auth`). */
export interface FuzzRequest {
  readonly target: 'api' | 'agent';
  /** The operation it exercises: `GET /api/apps/{app}`. */
  readonly op: string;
  readonly method: string;
  /** Path and query, as sent (may hold `..` and percent-encodings). */
  readonly path: string;
  readonly auth: AuthMode;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export interface Param {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: Schema;
}

/** One operation: from /api/openapi.json, or written down for the agent. */
export interface Operation {
  readonly target: 'api' | 'agent';
  readonly method: string;
  /** `/api/apps/{app}`. */
  readonly path: string;
  readonly params: readonly Param[];
  readonly body?: Schema;
  /** An upload (application/gzip) instead of JSON. */
  readonly upload?: boolean;
  /** Pools that replace the shared ones for this operation (e.g. DELETE never names the seeded app). */
  readonly pools?: Pools;
}

export const opKey = (o: Pick<Operation, 'method' | 'path' | 'target'>) => `${o.target === 'agent' ? 'agent ' : ''}${o.method} ${o.path}`;

type Doc = { paths: Record<string, Record<string, { parameters?: Param[]; requestBody?: { content: Record<string, { schema?: Schema }> } }>> };

/** Every operation of the API's OpenAPI document. */
export function apiOperations(doc: unknown): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries((doc as Doc).paths)) {
    for (const [method, o] of Object.entries(methods)) {
      const json = o.requestBody?.content?.['application/json']?.schema;
      ops.push({
        target: 'api',
        method: method.toUpperCase(),
        path,
        params: o.parameters ?? [],
        ...(json ? { body: json } : {}),
        ...(method === 'post' && (path.endsWith('/builds') || path.endsWith('/{name}/runs')) ? { upload: true } : {}),
      });
    }
  }
  return ops;
}

/** The pool a path parameter draws from: `{id}` after `builds/` is a build id. */
const poolKeyOf = (path: string, name: string) => {
  const before = path.split(`/{${name}}`)[0]?.split('/').pop() ?? '';
  return name === 'id' || name === 'name' ? `${before}.${name}` : name;
};

/** Every byte percent-encoded (a lone surrogate becomes U+FFFD's bytes). */
const encodeAll = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
/** encodeURIComponent, which throws on a lone surrogate. */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeAll(s);
  }
};

/** How a path segment is written: encoded, raw, every byte encoded, double-encoded. */
const segment = (s: string): fc.Arbitrary<string> =>
  fc.constantFrom('encoded', 'encoded', 'encoded', 'encoded', 'raw', 'all', 'double').map((how) => {
    const enc = encode(s);
    if (how === 'encoded' || enc.length > 8000) return enc;
    if (how === 'raw') return /^[\u0021-\u00ff]*$/.test(s) && !/[?#]/.test(s) ? s : enc;
    if (how === 'all') return encodeAll(s);
    return enc.replace(/%/g, '%25');
  });

const pathValue = (op: Operation, name: string, g: Gen): fc.Arbitrary<string> => {
  const pool = (g.pools[poolKeyOf(op.path, name)] ?? []).map(String);
  if (!g.wild && pool.length) return fc.constantFrom(...pool).chain((v) => fc.constantFrom(encode(v), encode(v), encode(v), encodeAll(v)));
  return fc
    .oneof(
      { weight: pool.length ? 8 : 0, arbitrary: pool.length ? fc.constantFrom(...pool) : fc.constant('x') },
      { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
      { weight: 2, arbitrary: nastyString },
    )
    .chain(segment);
};

/** A querystring value: schema-valid mostly, else the strings that break number coercion. */
const queryValue = (p: Param, g: Gen): fc.Arbitrary<string> => {
  const s = p.schema ?? {};
  const t = typesOf(s)[0] ?? (s.anyOf ? 'string' : undefined);
  const valid: fc.Arbitrary<string> =
    t === 'integer' || t === 'number'
      ? fc.integer({ min: s.minimum ?? 0, max: s.maximum ?? 1000 }).map(String)
      : t === 'boolean'
        ? fc.constantFrom('true', 'false', '1', '0')
        : validValue({ type: 'string', ...(s.maxLength ? { maxLength: s.maxLength } : {}) }, p.name, g, 0).map((v) => String(v));
  const bad = fc.oneof(
    fc.constantFrom(
      'Infinity',
      '-Infinity',
      '1e400',
      'NaN',
      '',
      '0x10',
      '1.5',
      '+1',
      ' 1',
      '١',
      '1,2',
      '99999999999999999999',
      'maybe',
      'null',
      '[]',
      '-0',
      '0',
    ),
    nastyString,
  );
  return g.wild ? fc.oneof({ weight: 5, arbitrary: valid }, { weight: 2, arbitrary: bad }) : valid;
};

const queryString = (op: Operation, g: Gen): fc.Arbitrary<string> => {
  const qs = op.params.filter((p) => p.in === 'query');
  const pairs = qs.map((p) =>
    fc.tuple(fc.integer({ min: 0, max: 9 }), queryValue(p, g), queryValue(p, g)).map(([roll, a, b]): string[] => {
      if (roll < 3 || (!g.wild && roll < 6 && !p.required)) return []; // left out (defaults apply)
      if (!g.wild) return [`${p.name}=${encode(a)}`];
      if (roll === 9) return [`${p.name}=${encode(a)}`, `${p.name}=${encode(b)}`]; // an array
      return [`${p.name}=${roll === 8 ? a.replace(/[^\u0021-\u00ff]|[&#]/g, '') : encode(a)}`];
    }),
  );
  const extra = fc.oneof(
    { weight: 6, arbitrary: fc.constant<string[]>([]) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS, 'limit', 'env', 'a[b]', 'x').map((k) => [`${encode(k)}=1`]) },
    { weight: 1, arbitrary: fc.constantFrom(['%'], ['=&=='], ['limit'], [`q=${'x'.repeat(8000)}`], ['follow=true']) },
  );
  return fc.tuple(fc.tuple(...pairs), extra).map(([ps, ex]) => {
    const all = [...ps.flat(), ...(g.wild ? ex : [])];
    return all.length ? `?${all.join('&')}` : '';
  });
};

/** Body text that is not a JSON value of the schema at all. */
const junkBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    'null',
    'true',
    '[]',
    '"x"',
    '1e400',
    'NaN',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '\ufeff{}',
    '{}{}',
    '{"a":1}\u0000',
  ),
  fc
    .integer({ min: 100, max: 400_000 })
    .chain((n) => fc.constantFrom(`${'['.repeat(n)}${']'.repeat(n)}`, `${'{"a":'.repeat(n >> 2)}1${'}'.repeat(n >> 2)}`, `${'['.repeat(n)}`)),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constant(`{"a":"${'x'.repeat((1 << 20) + 10)}"}`), // over the body limit
);

/** Uploads are fixed: the fuzzer never makes an app whose manifest would run something new. */
export interface Uploads {
  /** A real app (the seeded fixture) as a gzip tarball. */
  readonly app: Buffer;
  /** Other fixed archives: garbage, a tar without a manifest, a manifest that is wrong. */
  readonly others: readonly Buffer[];
}

const uploadBody = (uploads: Uploads, wild: boolean): fc.Arbitrary<{ body?: Buffer | string; type?: string }> =>
  !wild
    ? fc.constant({ body: uploads.app, type: 'application/gzip' })
    : fc.oneof(
        { weight: 4, arbitrary: fc.constant({ body: uploads.app, type: 'application/gzip' }) },
        {
          weight: 3,
          arbitrary: fc
            .tuple(fc.constantFrom(...uploads.others), fc.constantFrom('application/gzip', 'application/x-gzip', 'application/octet-stream'))
            .map(([body, type]) => ({ body, type })),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            { body: '{}', type: 'application/json' },
            { body: '', type: 'application/gzip' },
            {},
            { body: uploads.app, type: 'text/plain' },
            { body: uploads.app.subarray(0, 40), type: 'application/gzip' },
          ),
        },
      );

const authMode: fc.Arbitrary<AuthMode> = fc.constantFrom<AuthMode>(...Array<AuthMode>(16).fill('valid'), 'none', 'wrong', 'malformed', 'cookie');

/** Extra headers, rarely: a foreign origin, an actor claim, odd content types are chosen with the body. */
const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      { origin: 'http://evil.example' },
      { 'x-rewind-actor': 'ceo@company.com' },
      { 'sec-fetch-site': 'cross-site' },
      { accept: 'text/event-stream' },
      { 'accept-encoding': 'gzip' },
    ),
  },
);

/**
 * Requests for `op`, its path params, query and body generated from its schemas: 3 in 5 are
 * well-formed, with real names and a valid credential (they go deep); the rest are wild.
 */
export function requestArbitrary(op: Operation, shared: Pools, uploads: Uploads): fc.Arbitrary<FuzzRequest> {
  const pools = { ...shared, ...op.pools };
  return fc.oneof(
    { weight: 3, arbitrary: requests(op, { pools, wild: false }, uploads) },
    { weight: 2, arbitrary: requests(op, { pools, wild: true }, uploads) },
  );
}

function requests(op: Operation, g: Gen, uploads: Uploads): fc.Arbitrary<FuzzRequest> {
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const path = fc.tuple(...names.map((n) => pathValue(op, n, g))).map((values) => names.reduce((p, n, i) => p.replace(`{${n}}`, values[i] as string), op.path));
  const hasBody = op.body !== undefined || (op.method !== 'GET' && op.method !== 'HEAD' && op.method !== 'DELETE');
  const body: fc.Arbitrary<{ body?: Buffer | string; type?: string }> = op.upload
    ? uploadBody(uploads, g.wild)
    : !hasBody
      ? fc.oneof({ weight: 9, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.constant({ body: '{}', type: 'application/json' }) })
      : !g.wild
        ? value(op.body ?? { type: 'object' }, '', g).map((j) => ({ body: serialize(sanitize(j)), type: 'application/json' }))
        : fc
            .tuple(
              fc.oneof(
                { weight: 8, arbitrary: value(op.body ?? { type: 'object' }, '', g).map((j) => serialize(sanitize(j))) },
                { weight: 1, arbitrary: junkBody },
              ),
              fc.constantFrom<string | undefined>(
                ...Array<string>(14).fill('application/json'),
                'application/json; charset=utf-8',
                'text/plain',
                'application/x-www-form-urlencoded',
                undefined,
              ),
            )
            .map(([text, type]) => (type === undefined ? { body: text } : { body: text, type }));
  // GET routes are also asked with HEAD now and then (a stream must answer it, not hang).
  // Wild ones, rarely, with a method the route does not have (a 404 or 405, never a 5xx).
  const same = op.method === 'GET' ? fc.constantFrom('GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'HEAD') : fc.constant(op.method);
  const method = g.wild
    ? fc.oneof({ weight: 19, arbitrary: same }, { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'PUT', 'PATCH', 'DELETE', 'POST') })
    : same;
  const auth = g.wild ? authMode : fc.constant<AuthMode>('valid');
  const headers = g.wild ? extraHeaders : fc.constant({});
  return fc.record({ path, query: queryString(op, g), body, auth, headers, method }).map((r) => ({
    target: op.target,
    op: opKey(op),
    method: r.method,
    path: `${r.path}${r.query}`,
    auth: r.auth,
    headers: { ...r.headers, ...(r.body.type ? { 'content-type': r.body.type } : {}) },
    ...(r.body.body !== undefined ? { body: r.body.body } : {}),
  }));
}
