/**
 * Config keys, component names and settings are plain data: `constructor`, `toString` and
 * `__proto__` are keys like any other. These read and write records by own keys only, never
 * through the prototype (`k in o`, `o[k]` and `o[k] = v` all reach Object.prototype).
 */

/** Whether `k` is one of the record's own keys. */
export const hasKey = (r: object, k: string): boolean => Object.hasOwn(r, k);

/** The record's own value under `k`, else undefined (never an inherited method). */
export const valueOf = <V>(r: Readonly<Record<string, V>>, k: string): V | undefined => (Object.hasOwn(r, k) ? r[k] : undefined);

/** A record from entries; `__proto__` becomes an own key (Object.fromEntries defines, it does not assign). */
export const recordOf = <V>(entries: Iterable<readonly [string, V]>): Record<string, V> => Object.fromEntries(entries);

/** A Map of the record's own entries, to edit with set/delete before recordOf. */
export const mapOf = <V>(r: Readonly<Record<string, V>>): Map<string, V> => new Map(Object.entries(r));
