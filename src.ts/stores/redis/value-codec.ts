/** Turns a store's values into text and back (for stores outside the process). */
export interface ValueCodec<V> {
  encode(value: V): string;
  /** Throws for text it cannot read. */
  decode(text: string): V;
}

/** The property a bigint is wrapped in by {@link jsonValueCodec}: `{ "$zgw_bigint": "123" }`. */
const BIGINT_TAG = '$zgw_bigint';
const INTEGER = /^-?\d+$/;

/**
 * JSON that keeps bigints: a bigint is written as `{ "$zgw_bigint": "<decimal>" }` and read back as
 * a bigint (an object with exactly that one property holding an integer string, anywhere in the
 * value). Otherwise plain JSON: properties whose value is `undefined` are dropped (they read back
 * as absent), `Date`s become strings.
 */
export function jsonValueCodec<V>(): ValueCodec<V> {
  return {
    encode: (value) => JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? { [BIGINT_TAG]: item.toString() } : item)),
    decode: (text) =>
      JSON.parse(text, (_key, item: unknown) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
        const keys = Object.keys(item);
        const tagged = (item as Record<string, unknown>)[BIGINT_TAG];
        return keys.length === 1 && typeof tagged === 'string' && INTEGER.test(tagged) ? BigInt(tagged) : item;
      }) as V,
  };
}
