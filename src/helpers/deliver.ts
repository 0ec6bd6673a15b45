import { AttributeError, Connection, copyValue } from '../core/index.js';

/**
 * Sends a deep copy of `value` to the peer and resolves to a netref to that copy, which lives on the peer until the
 * netref is released: RPyC's `deliver`. The copy is made here as `obtain` makes one (class instances become plain
 * data of their own enumerable data properties, `_private` ones included since the value is yours; functions and
 * netrefs stay references) and kept on the peer by its `ClassicService.byRef`. A primitive resolves to itself.
 *
 * Needs a classic peer (`ClassicService`): any other rejects with AttributeError saying so. Throws a TypeError for a
 * function (use `teleport`) or a cyclic value; rejects with ConnectionClosedError when the connection closes.
 */
export async function deliver(conn: Connection, value: unknown): Promise<any> {
  if (!(conn instanceof Connection)) throw new TypeError('deliver() takes a Connection and a value');
  if (typeof value === 'function') {
    throw new TypeError('deliver() copies values, and a function cannot be copied: use teleport(conn, fn) to send one');
  }
  if (value === null || typeof value !== 'object') return value;
  const copy = copyValue(value, { ...conn.config, allowAllAttrs: true });
  try {
    return await conn.root.byRef(copy);
  } catch (error) {
    if (error instanceof AttributeError) {
      throw new AttributeError(`deliver() needs a peer serving ClassicService (classic mode): ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
