import { Packr, addExtension } from './msgpackr.js';
import { claimOwnedFrame, LARGE_FRAME_BYTES, takeFrameBuffer } from '../channel/index.js';
import {
  beginViews,
  deferLargeBinaries,
  endViews,
  installBinaryExtension,
  takeDeferredBinaries,
  viewSubarray,
  type DeferredBinary,
} from './binaryExtension.js';

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
// - copyBuffers: decoded byte arrays own their memory instead of pinning the whole frame (but see `decode`);
// - typed arrays and Buffers go through binaryExtension.ts, msgpackr's encoding with fewer copies of large ones.
// The nesting cap is enforced by the core's unboxing walk, which visits every decoded value.
installBinaryExtension();
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  mapsAsObjects: true,
  moreTypes: true,
  copyBuffers: true,
  int64AsType: 'bigint',
  useBigIntExtension: true,
});

/** msgpackr reads its options from the instance on every use: `decode` turns `copyBuffers` off for one frame. */
const options = packr as Packr & { copyBuffers: boolean };

/**
 * Encodes one message. Throws a TypeError naming the value when msgpack cannot carry it. The frame holds the
 * message as it is now: the caller may change or reuse anything in it afterwards. A frame holding a large binary
 * owns its whole ArrayBuffer, which a port can transfer as it is; the others are views into msgpackr's buffer.
 */
export function encode(value: unknown): Uint8Array {
  let frame: Uint8Array;
  let deferred: DeferredBinary[] | undefined;
  deferLargeBinaries(packr);
  try {
    frame = packr.pack(value);
  } finally {
    // also after a throw, so that the next encode starts afresh
    deferred = takeDeferredBinaries();
  }
  if (deferred === undefined) return frame;
  // Still inside the caller's call: the bytes copied now are the ones it passed.
  return withBinaries(frame, deferred) ?? packr.pack(value);
}

/**
 * The frame with the bytes of the large binaries left out of it put in, in one new buffer of its own: one copy of
 * each binary. Undefined if msgpackr moved its output to a new buffer after leaving one out (its place is lost
 * then); the caller encodes again, copying as msgpackr does.
 */
function withBinaries(frame: Uint8Array, deferred: DeferredBinary[]): Uint8Array | undefined {
  let size = frame.byteLength;
  for (const d of deferred) {
    // (and should a binary have changed size since, say detached by code run during the encoding, start over)
    if (d.target.buffer !== frame.buffer || d.bytes.byteLength !== d.length) return undefined;
    size += d.length;
  }
  // Every byte is written below. Memory a socket has finished writing may be reused (see frameBuffers.ts).
  const out = takeFrameBuffer(size);
  let from = 0;
  let to = 0;
  for (const d of deferred) {
    const cut = d.target.byteOffset + d.at - frame.byteOffset;
    out.set(frame.subarray(from, cut), to);
    to += cut - from;
    from = cut;
    out.set(d.bytes, to);
    to += d.bytes.byteLength;
  }
  out.set(frame.subarray(from), to);
  return out;
}

/** Frames up to this size are decoded from one reused buffer (see `decode`). */
const SCRATCH_BYTES = LARGE_FRAME_BYTES;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

/**
 * Decodes one frame. Throws on anything malformed; the caller closes the connection with a ProtocolError. A
 * pathologically nested frame throws a RangeError from the decoder's recursion, after msgpackr has reset its state.
 */
export function decode(frame: Uint8Array): unknown {
  // msgpackr makes (and caches on the buffer) a DataView for every new source buffer, which costs more than copying
  // a small frame: small frames are copied into one long-lived buffer and decoded from there. That is safe because
  // nothing decoded from it keeps a view of its source (copyBuffers; typed arrays are copied) and decoding never
  // re-enters itself. It is a Buffer so that msgpack `bin` arrives as a Buffer on every transport (a Uint8Array
  // travels as its own extension and arrives as a Uint8Array).
  const length = frame.byteLength;
  // msgpackr reads `end: 0` as "to the end of the buffer".
  if (length === 0) throw new TypeError('an empty frame holds no message');
  if (length <= SCRATCH_BYTES) {
    scratch.set(frame, 0);
    return packr.unpack(scratch, { start: 0, end: length });
  }
  const source = Buffer.from(frame.buffer, frame.byteOffset, length);
  if (!claimOwnedFrame(frame)) return packr.unpack(source);
  // A frame its channel handed over for good: a binary of a third of the frame or more is left in it, as a view,
  // rather than copied out (the frame is then that value's memory); smaller ones are copied, so that they never keep
  // a much larger frame alive.
  Object.defineProperty(source, 'subarray', { value: viewSubarray });
  options.copyBuffers = false;
  beginViews(source, length / 3);
  try {
    return packr.unpack(source);
  } finally {
    endViews();
    options.copyBuffers = true;
  }
}
