const refMarks = new WeakSet<object>();
const valueMarks = new WeakSet<object>();

/**
 * Marks an object or array to cross by reference from now on: the receiver gets a netref, even for plain data.
 * Returns its argument, so `return byRef({ ... })` reads naturally. Throws a TypeError for a primitive.
 */
export function byRef<T extends object>(value: T): T {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new TypeError(`byRef() takes an object or function, got ${value === null ? 'null' : typeof value}`);
  }
  valueMarks.delete(value);
  refMarks.add(value);
  return value;
}

/**
 * Marks an object to cross by value from now on: a class instance is copied as a plain object of its own
 * enumerable properties. Functions cannot be copied and stay by reference.
 */
export function byValue<T extends object>(value: T): T {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`byValue() takes an object, got ${value === null ? 'null' : typeof value}`);
  }
  refMarks.delete(value);
  valueMarks.add(value);
  return value;
}

export function isMarkedByRef(value: object): boolean {
  return refMarks.has(value);
}

export function isMarkedByValue(value: object): boolean {
  return valueMarks.has(value);
}
