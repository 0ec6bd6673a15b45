import { ProtocolError } from '../protocol/index.js';
import { showValue } from './showValue.js';

interface ExportEntry {
  value: object;
  /** How many times we sent it and the peer has not released it yet. */
  count: number;
}

/**
 * The objects of this end the peer holds netrefs to. Each send counts; the peer reports releases with counts, so a
 * reference sent again while a release is in flight is never freed early. Id 0 is the root service, never freed.
 */
export class ExportTable {
  #byId = new Map<number, ExportEntry>();
  #ids = new Map<object, number>();
  #next = 1;

  constructor(root: object) {
    this.#byId.set(0, { value: root, count: Infinity });
    this.#ids.set(root, 0);
  }

  /** Counts one more send of `value` and returns its id. */
  send(value: object): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.#next++;
      this.#ids.set(value, id);
      this.#byId.set(id, { value, count: 1 });
    } else {
      this.#byId.get(id)!.count++;
    }
    return id;
  }

  /** The exported object with this id; throws ProtocolError for an id the peer does not hold. */
  get(id: unknown): object {
    const entry = typeof id === 'number' ? this.#byId.get(id) : undefined;
    if (!entry) throw new ProtocolError(`the peer used reference ${showValue(id)}, which it does not hold`);
    return entry.value;
  }

  /** The peer dropped `count` of its references to `id`. Throws ProtocolError for counts it never received. */
  release(id: unknown, count: unknown): void {
    if (typeof id !== 'number' || id === 0) throw new ProtocolError(`release of invalid reference ${showValue(id)}`);
    const entry = this.#byId.get(id);
    if (!entry) throw new ProtocolError(`release of reference ${id}, which the peer does not hold`);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > entry.count) {
      throw new ProtocolError(`release of reference ${id} with count ${showValue(count)}; it holds ${entry.count}`);
    }
    entry.count -= count;
    if (entry.count === 0) {
      this.#byId.delete(id);
      this.#ids.delete(entry.value);
    }
  }

  clear(): void {
    this.#byId.clear();
    this.#ids.clear();
  }
}
