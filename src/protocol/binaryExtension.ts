import { addExtension, type Packr } from './msgpackr.js';

/**
 * How typed arrays and Buffers cross, with as few copies as possible for large ones. The bytes on the wire are
 * exactly msgpackr's own (a Buffer is msgpack `bin`; any other typed array is msgpackr's extension 0x74: a type code,
 * then its bytes), so peers are unaffected; two things differ inside:
 * - encoding (see `deferLargeBinaries`): a large array is not copied into msgpackr's output buffer. The encoder
 *   writes its header only and notes where its bytes belong; `codec.encode` then copies the bytes once, straight into
 *   the frame it returns (msgpackr would copy them into a buffer of its own, often freshly grown, and the frame would
 *   then need copying again to be transferred over a port).
 * - decoding (see `beginViews`): from a frame a channel owns outright, a large array (a third of the frame or more)
 *   is returned as a view into the frame instead of a copy. Smaller ones are still copied, so that a few bytes never
 *   keep a large frame alive: what a view keeps alive is at most three times its size.
 * Both only apply to our own Packr and only while `codec` asks: any other msgpackr user in the process sees
 * msgpackr's behaviour unchanged.
 */

/** Binaries from this size up are copied straight into the frame (see `deferLargeBinaries`). */
const LARGE_BINARY_BYTES = 64 * 1024;

/** The bytes of one large binary left out of msgpackr's output: `length` of them belong at `at` in `target`. */
export interface DeferredBinary {
  bytes: Uint8Array;
  length: number;
  target: Uint8Array;
  at: number;
}

/** msgpackr's type codes for typed arrays in extension 0x74: the index in this list (msgpackr's `typedArrays`). */
const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
const TYPED_ARRAY_NAMES = TYPED_ARRAYS.map((c) => c.name);
/** In extension 0x74, the codes of an ArrayBuffer and a DataView. */
const ARRAY_BUFFER_CODE = 16;
const DATA_VIEW_CODE = 17;
const TYPED_ARRAY_EXT = 0x74;

type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[number]>;
/** %TypedArray%, the class every typed array (Buffer included) is an instance of. */
const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => AnyTypedArray;

let deferringFor: Packr | undefined;
let deferred: DeferredBinary[] | undefined;

/**
 * From now until `takeDeferredBinaries`, the large binaries `packr` packs are left out of its output (their header is
 * written, their bytes are not) and listed instead; the caller must then put the bytes in, or drop the output.
 */
export function deferLargeBinaries(packr: Packr): void {
  deferringFor = packr;
  deferred = undefined;
}

/** Ends `deferLargeBinaries`; returns the binaries left out, in the order they appear in the output, if any. */
export function takeDeferredBinaries(): DeferredBinary[] | undefined {
  const out = deferred;
  deferringFor = undefined;
  deferred = undefined;
  return out;
}

let viewSource: Uint8Array | undefined;
let viewMinBytes = Infinity;

/**
 * Until `endViews`, a typed array of `minBytes` or more decoded from `source` is a view into it rather than a copy,
 * and so is a Buffer, provided `source` is unpacked with `copyBuffers` off and `viewSubarray` as its `subarray`. Only
 * for a source nothing else holds or reuses.
 */
export function beginViews(source: Uint8Array, minBytes: number): void {
  viewSource = source;
  viewMinBytes = minBytes;
}

export function endViews(): void {
  viewSource = undefined;
  viewMinBytes = Infinity;
}

/**
 * The `subarray` of a source being decoded with views (set on that one Buffer object): msgpackr takes a `bin` value
 * (and the bytes of strings and extensions, which it only reads) with `src.subarray` when `copyBuffers` is off. A
 * `bin` smaller than the threshold is copied, as `copyBuffers` would; anything else stays a view.
 */
export function viewSubarray(this: Buffer, start: number, end: number): Buffer {
  if (end - start < viewMinBytes && isBinAt(this, start, end - start)) {
    // msgpackr's copy (a Buffer, as copyBuffers makes it)
    return Uint8Array.prototype.slice.call(this, start, end) as Buffer;
  }
  return Buffer.prototype.subarray.call(this, start, end);
}

/**
 * True if the `length` bytes at `start` are preceded by a msgpack `bin` header of that length. Anything read with
 * `subarray` that is not a bin and still passes is only copied for nothing; a bin always passes.
 */
function isBinAt(src: Buffer, start: number, length: number): boolean {
  return (
    (start >= 2 && src[start - 2] === 0xc4 && src[start - 1] === length) ||
    (start >= 3 && src[start - 3] === 0xc5 && src.readUInt16BE(start - 2) === length) ||
    (start >= 5 && src[start - 5] === 0xc6 && src.readUInt32BE(start - 4) === length)
  );
}

type Allocate = (size: number) => { target: Uint8Array; targetView: DataView; position: number };

/** msgpackr's packing of typed arrays and Buffers, byte for byte, but for the deferral of large ones. */
function pack(this: Packr, array: AnyTypedArray, allocateForWrite: Allocate): void {
  const length = array.byteLength;
  const asBin = (array.constructor as unknown) === Buffer || !(this as Packr & { moreTypes?: boolean }).moreTypes;
  const defer = this === deferringFor && length >= LARGE_BINARY_BYTES;
  const size = defer ? 0 : length;
  let at: { target: Uint8Array; targetView: DataView; position: number };
  if (asBin) {
    if (length < 0x100) {
      at = allocateForWrite(2 + size);
      at.target[at.position++] = 0xc4;
      at.target[at.position++] = length;
    } else if (length < 0x10000) {
      at = allocateForWrite(3 + size);
      at.target[at.position++] = 0xc5;
      at.target[at.position++] = length >> 8;
      at.target[at.position++] = length & 0xff;
    } else {
      at = allocateForWrite(5 + size);
      at.target[at.position++] = 0xc6;
      at.targetView.setUint32(at.position, length);
      at.position += 4;
    }
  } else {
    if (length + 1 < 0x100) {
      at = allocateForWrite(4 + size);
      at.target[at.position++] = 0xc7;
      at.target[at.position++] = length + 1;
    } else if (length + 1 < 0x10000) {
      at = allocateForWrite(5 + size);
      at.target[at.position++] = 0xc8;
      at.target[at.position++] = (length + 1) >> 8;
      at.target[at.position++] = (length + 1) & 0xff;
    } else {
      at = allocateForWrite(7 + size);
      at.target[at.position++] = 0xc9;
      at.targetView.setUint32(at.position, length + 1); // plus one for the type code
      at.position += 4;
    }
    at.target[at.position++] = TYPED_ARRAY_EXT;
    // as msgpackr: by constructor name (a subclass gets -1, written as 255, which no decoder accepts)
    at.target[at.position++] = TYPED_ARRAY_NAMES.indexOf(array.constructor.name);
  }
  const bytes = new Uint8Array(array.buffer, array.byteOffset, length);
  if (defer) (deferred ??= []).push({ bytes, length, target: at.target, at: at.position });
  // As msgpackr, a bin that is not a Buffer (only without moreTypes, so never ours) is copied element by element.
  else at.target.set(asBin ? (array as ArrayLike<number>) : bytes, at.position);
}

/** msgpackr's unpacking of extension 0x74, but for the views of `beginViews`. */
function unpack(data: Uint8Array): unknown {
  const code = data[0]!;
  const Type = TYPED_ARRAYS[code];
  if (Type && viewSource !== undefined && data.buffer === viewSource.buffer) {
    const offset = data.byteOffset + 1;
    const bytes = data.byteLength - 1;
    const unit = Type.BYTES_PER_ELEMENT;
    // A view must be aligned to its element size; msgpackr does not align, so a wider type gets one only by luck.
    if (bytes >= viewMinBytes && offset % unit === 0 && bytes % unit === 0) {
      return new Type(data.buffer as ArrayBuffer, offset, bytes / unit);
    }
  }
  // A copy, which is also aligned.
  const buffer = Uint8Array.prototype.slice.call(data, 1).buffer as ArrayBuffer;
  if (Type) return new Type(buffer);
  if (code === ARRAY_BUFFER_CODE) return buffer;
  if (code === DATA_VIEW_CODE) return new DataView(buffer);
  throw new Error(`Could not find typed array for code ${code}`);
}

/** Puts our packing and unpacking of binaries in place of msgpackr's, for every Packr (see the top). */
export function installBinaryExtension(): void {
  addExtension({ Class: TypedArray, type: TYPED_ARRAY_EXT, pack, unpack } as unknown as Parameters<
    typeof addExtension
  >[0]);
}
