import { Kind, Type, type ArrayOptions, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Shapes of the HTTP API's JSON bodies, shared by the server, the CLI's client and the console.
 * Each is a TypeBox schema (the routes' `response`, hence the OpenAPI document, and what
 * fast-json-stringify writes: a field missing here is dropped from the reply) and a TS type of
 * the same name. Times are ISO-8601 strings. `src/contract/` imports only `src/domain/`.
 *
 * Helpers and shapes every resource uses: readonly views, nullable fields as type lists, string enums, lists, the error body, shared params.
 */

/** Bodies are values: readonly all the way down, as the hand-written interfaces were. */
export type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
export type View<S extends TSchema> = DeepReadonly<Static<S>>;

/**
 * True when A and B are assignable both ways: `Assert<SameShape<View<typeof X>, DomainX>>` checks
 * at compile time that a view which is exactly a domain value has the domain type's shape.
 */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Assert<T extends true> = T;

/** What a client sends for the body schema S: the fields the server fills in with a default (`Defaulted`) may be left out. */
export type RequestOf<S extends TSchema, Defaulted extends keyof Static<S> = never> = DeepReadonly<
  Omit<Static<S>, Defaulted> & Partial<Pick<Static<S>, Defaulted>>
>;

/**
 * `S` or null, as `type: [S's type, "null"]` rather than `anyOf`: fast-json-stringify writes a
 * type list with plain checks, but an `anyOf` through ajv, compiled on a route's first reply
 * (which made the first rollback after a start 100+ ms slower).
 */
export const Nullable = <S extends TSchema>(s: S, description?: string) => {
  const { [Kind]: _kind, ...schema } = s as TSchema & Record<string, unknown>;
  return Type.Unsafe<Static<S> | null>({ ...schema, type: [s.type as string, 'null'], ...(description ? { description } : {}) });
};
/** A string from a fixed set: `enum` in the document, a literal union in TS; serialized as a plain string. */
export const StringEnum = <const V extends readonly string[]>(values: V, description?: string) =>
  Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
export const StringMap = (description?: string) => Type.Record(Type.String(), Type.String(), description ? { description } : {});
/** An array whose TS type is readonly, so that the views (and the routes' replies) can be readonly lists. */
export const List = <S extends TSchema>(item: S, options: ArrayOptions = {}) => Type.Unsafe<readonly Static<S>[]>(Type.Array(item, options));

export const ApiError = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable code, e.g. RELEASE_NOT_FOUND' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { description: 'An error: its code, what to do next, and details for some codes' },
);
export type ApiError = View<typeof ApiError>;

/** DELETE's empty success. */
export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'done; no body' });

export const AppParams = Type.Object({ app: Type.String({ description: 'app name' }) });
export const AppIdParams = Type.Object({ app: Type.String(), id: Type.String() });
export const IdParams = Type.Object({ id: Type.String() });
export const EnvQuery = Type.Object({ env: Type.String({ default: 'production', description: 'environment name' }) });
export const ListQuery = Type.Object({
  env: Type.String({ default: 'production' }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
});
