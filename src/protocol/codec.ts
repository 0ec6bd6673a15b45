import { Packr, addExtension } from 'msgpackr';

/**
 * A value the protocol gives its own meaning (a reference, a Map, an Error…): `tag` says which, `value` is its
 * payload. On the wire it is one msgpack extension of type `TAGGED_EXT` holding `[tag, value]`.
 */
export class Tagged {
  constructor(
    readonly tag: number,
    readonly value: unknown,
  ) {}
}

/** The msgpack extension type that carries a `Tagged`; 0x4e is 'N'. */
export const TAGGED_EXT = 0x4e;

/** Tags of `Tagged` values. */
export const Tag = {
  /** [id, callable]: an object that lives on the sender; the receiver holds a netref to it. */
  REMOTE: 1,
  /** id: an object of the receiver's own, coming home. */
  HOME: 2,
  /** [onAnswer, target, path]: the value at `path` of a receiver's export or of one of its pending answers. */
  PROMISE: 3,
  /** [k1, v1, k2, v2, ...]: a Map. */
  MAP: 4,
  /** { name, message, stack?, code?, cause?, props? }: an Error. */
  ERROR: 5,
} as const;

addExtension({
  Class: Tagged,
  type: TAGGED_EXT,
  write: (t: Tagged) => [t.tag, t.value],
  read: (data: unknown) => {
    if (!Array.isArray(data) || data.length !== 2 || typeof data[0] !== 'number') {
      throw new TypeError('malformed tagged value');
    }
    return new Tagged(data[0], data[1]);
  },
});

// One instance for both directions. Configured for untrusted input (DESIGN §5):
// - structuredClone: false refuses the id/pointer extensions, so a frame cannot build a cycle or shared reference;
// - useRecords: false, no shared structures: a record definition is valid only inside its own frame and yields a
//   plain object;
// - mapsAsObjects: msgpack maps become plain objects, and msgpackr renames a `__proto__` key, so no decoded object
//   carries a prototype chosen by the peer;
// - moreTypes: Set, RegExp, typed arrays, ArrayBuffer and big BigInts keep their type;
// - copyBuffers: decoded byte arrays own their memory instead of pinning the whole frame.
// The nesting cap is enforced by the core's unboxing walk, which visits every decoded value.
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  mapsAsObjects: true,
  moreTypes: true,
  copyBuffers: true,
  int64AsType: 'bigint',
  useBigIntExtension: true,
});

/** Encodes one message. Throws a TypeError naming the value when msgpack cannot carry it. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Frames up to this size are decoded from one reused buffer (see `decode`). */
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

/**
 * Decodes one frame. Throws on anything malformed; the caller closes the connection with a ProtocolError. A
 * pathologically nested frame throws a RangeError from the decoder's recursion, after msgpackr has reset its state.
 */
export function decode(frame: Uint8Array): unknown {
  // msgpackr makes (and caches on the buffer) a DataView for every new source buffer, which costs more than copying
  // a small frame: small frames are copied into one long-lived buffer and decoded from there. That is safe because
  // nothing decoded keeps a view of its source (copyBuffers; typed arrays are always copied) and decoding never
  // re-enters itself. It is a Buffer so that msgpack `bin` arrives as a Buffer on every transport (a Uint8Array
  // travels as its own extension and arrives as a Uint8Array).
  const length = frame.byteLength;
  // msgpackr reads `end: 0` as "to the end of the buffer".
  if (length === 0) throw new TypeError('an empty frame holds no message');
  if (length <= SCRATCH_BYTES) {
    scratch.set(frame, 0);
    return packr.unpack(scratch, { start: 0, end: length });
  }
  const source = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, length);
  return packr.unpack(source);
}
