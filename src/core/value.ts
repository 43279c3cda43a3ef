/**
 * Values proposed to Paxos. synod agrees on JSON values so that they can be
 * persisted, sent between threads and printed the same way everywhere.
 */

/** A JSON value: what a client can propose. */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/**
 * Canonical JSON text of a value: object keys sorted, so two structurally
 * equal values always print (and compare) the same.
 */
export function canonicalJson(value: Value | JsonData): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as { readonly [key: string]: JsonData };
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k] as JsonData)}`).join(',')}}`;
}

/** Read-only JSON data such as a batch of commands: anything made of JSON values, printable by {@link canonicalJson}. */
export type JsonData = null | boolean | number | string | object;

/** True when two values are structurally equal (same canonical JSON). */
export function sameValue(a: Value, b: Value): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/**
 * True when `x` is a JSON value that survives a round trip unchanged:
 * finite numbers only (and not -0), arrays without holes, plain objects and arrays, no cycles, at most `maxDepth`
 * levels deep. Hosts use it to refuse values the core could not agree on.
 */
export function isValue(x: unknown, maxDepth = 64): x is Value {
  if (maxDepth < 0) return false;
  if (x === null) return true;
  switch (typeof x) {
    case 'boolean':
    case 'string':
      return true;
    case 'number':
      // -0 is refused rather than changed: JSON has no negative zero, so it would come back as 0.
      return Number.isFinite(x) && !Object.is(x, -0);
    case 'object': {
      if (Array.isArray(x)) {
        // A hole in a sparse array would come back as null: refused, like -0.
        for (let i = 0; i < x.length; i++) if (!(i in x) || !isValue(x[i], maxDepth - 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) return false;
      return Object.values(x as Record<string, unknown>).every((item) => isValue(item, maxDepth - 1));
    }
    default:
      return false;
  }
}
