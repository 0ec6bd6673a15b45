/**
 * How a value from the peer is named in an error message: short, and cheap to make whatever its size. (A BigInt of a
 * few MiB takes seconds to print in decimal, and one frame may carry 64 MiB.)
 */
export function showValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return v >= -(2n ** 64n) && v <= 2n ** 64n ? `${v}n` : 'a BigInt of more than 64 bits';
    case 'string':
      return v.length <= 40 ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, 40))}… (${v.length} characters)`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  }
}
