// Mutations of recorded netref sessions for the fuzz test: on whole frames, on bytes, on the msgpack structure
// inside a frame (numbers, strings, container lengths, extension types) and on the framed byte stream itself.
import fc from 'fast-check';
import { encode } from '../../src/protocol/index.js';

/** Where a msgpack item sits in a frame body, and what kind of item it is. */
export interface Token {
  kind: 'number' | 'string' | 'array' | 'map' | 'ext' | 'other';
  start: number;
  end: number;
  /** For arrays and maps: the offset and byte size of the element count (0 for fix formats: it is in the lead). */
  countAt?: number;
  countSize?: 0 | 2 | 4;
  /** For extensions: the offset of the type byte. */
  typeAt?: number;
}

/** Extension types msgpackr writes as a marker (fixext 1, data 0) followed by one more value: the payload. */
const MARKERS = new Set([0x4e, 0x73, 0x78, 0x65]);

/** Lists the msgpack items of `body` (depth first). Stops quietly where the bytes stop being msgpack. */
export function tokenize(body: Uint8Array): Token[] {
  const out: Token[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const item = (pos: number, depth: number): number => {
    if (pos >= body.length || depth > 64) throw new RangeError('end');
    const b = body[pos]!;
    const push = (t: Token) => (out.push(t), t);
    const container = (kind: 'array' | 'map', count: number, head: number, countSize: 0 | 2 | 4) => {
      const t = push({ kind, start: pos, end: 0, countAt: pos + (countSize ? 1 : 0), countSize });
      let p = pos + head;
      for (let i = 0; i < count * (kind === 'map' ? 2 : 1); i++) p = item(p, depth + 1);
      t.end = p;
      return p;
    };
    const ext = (len: number, head: number) => {
      const type = body[pos + head - 1]!;
      const t = push({ kind: 'ext', start: pos, end: pos + head + len, typeAt: pos + head - 1 });
      if (len === 1 && MARKERS.has(type) && body[pos + head] === 0) t.end = item(pos + head + 1, depth + 1);
      return t.end;
    };
    const sized = (kind: Token['kind'], head: number, len: number) =>
      push({ kind, start: pos, end: pos + head + len }).end;
    if (b <= 0x7f || b >= 0xe0) return sized('number', 1, 0);
    if (b <= 0x8f) return container('map', b & 0x0f, 1, 0);
    if (b <= 0x9f) return container('array', b & 0x0f, 1, 0);
    if (b <= 0xbf) return sized('string', 1, b & 0x1f);
    switch (b) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return sized('other', 1, 0);
      case 0xc4:
        return sized('other', 2, view.getUint8(pos + 1));
      case 0xc5:
        return sized('other', 3, view.getUint16(pos + 1));
      case 0xc6:
        return sized('other', 5, view.getUint32(pos + 1));
      case 0xc7:
        return ext(view.getUint8(pos + 1), 3);
      case 0xc8:
        return ext(view.getUint16(pos + 1), 4);
      case 0xc9:
        return ext(view.getUint32(pos + 1), 6);
      case 0xca:
        return sized('number', 5, 0);
      case 0xcb:
        return sized('number', 9, 0);
      case 0xcc:
      case 0xd0:
        return sized('number', 2, 0);
      case 0xcd:
      case 0xd1:
        return sized('number', 3, 0);
      case 0xce:
      case 0xd2:
        return sized('number', 5, 0);
      case 0xcf:
      case 0xd3:
        return sized('number', 9, 0);
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return ext(1 << (b - 0xd4), 2);
      case 0xd9:
        return sized('string', 2, view.getUint8(pos + 1));
      case 0xda:
        return sized('string', 3, view.getUint16(pos + 1));
      case 0xdb:
        return sized('string', 5, view.getUint32(pos + 1));
      case 0xdc:
        return container('array', view.getUint16(pos + 1), 3, 2);
      case 0xdd:
        return container('array', view.getUint32(pos + 1), 5, 4);
      case 0xde:
        return container('map', view.getUint16(pos + 1), 3, 2);
      case 0xdf:
        return container('map', view.getUint32(pos + 1), 5, 4);
      default:
        throw new RangeError('not msgpack');
    }
  };
  try {
    item(0, 0);
  } catch {
    // what was found so far is enough to mutate
  }
  return out;
}

/** Numbers that sit on the edges the protocol checks: signs, fractions, safe-integer and 32/64-bit limits. */
const NUMBERS: unknown[] = [
  0,
  1,
  -1,
  2,
  7,
  8,
  16,
  21,
  255,
  65535,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  1.5,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1e308,
  2n ** 63n,
  2n ** 64n - 1n,
  -(2n ** 63n),
  2n ** 64n + 1n,
  null,
  true,
  '1',
  [],
  {},
];
/** Strings that are names of things no peer may reach, or sizes that stress the decoder. */
const STRINGS: unknown[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'call',
  'apply',
  'bind',
  '_private',
  'onConnect',
  'then',
  '',
  'x'.repeat(300),
  'é\u0000\uffff',
  0,
  null,
];

export type Mutation =
  | { op: 'flip'; frame: number; pos: number; bit: number }
  | { op: 'truncate'; frame: number; len: number }
  | { op: 'dup'; frame: number }
  | { op: 'drop'; frame: number }
  | { op: 'swap'; a: number; b: number }
  | { op: 'splice'; frame: number; pos: number; bytes: Uint8Array }
  | { op: 'insert'; frame: number; bytes: Uint8Array }
  | { op: 'number'; frame: number; node: number; value: number }
  | { op: 'string'; frame: number; node: number; value: number }
  | { op: 'count'; frame: number; node: number; delta: number }
  | { op: 'extType'; frame: number; node: number; type: number }
  | { op: 'streamFlip'; pos: number; bit: number }
  | { op: 'streamCut'; pos: number };

const nat = fc.nat({ max: 1 << 20 });
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

/** One mutation; indices are taken modulo what they index, so any value is valid for any session. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), frame: nat, pos: nat, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), frame: nat, len: nat }),
  fc.record({ op: fc.constant('dup' as const), frame: nat }),
  fc.record({ op: fc.constant('drop' as const), frame: nat }),
  fc.record({ op: fc.constant('swap' as const), a: nat, b: nat }),
  fc.record({ op: fc.constant('splice' as const), frame: nat, pos: nat, bytes: bytes(16) }),
  fc.record({ op: fc.constant('insert' as const), frame: nat, bytes: bytes(64) }),
  fc.record({ op: fc.constant('number' as const), frame: nat, node: nat, value: nat }),
  fc.record({ op: fc.constant('string' as const), frame: nat, node: nat, value: nat }),
  fc.record({ op: fc.constant('count' as const), frame: nat, node: nat, delta: fc.integer({ min: -3, max: 6 }) }),
  fc.record({ op: fc.constant('extType' as const), frame: nat, node: nat, type: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('streamFlip' as const), pos: nat, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('streamCut' as const), pos: nat }),
);

function replaceRange(body: Uint8Array, start: number, end: number, by: Uint8Array): Uint8Array {
  return Buffer.concat([body.subarray(0, start), by, body.subarray(end)]);
}

/** Applies one frame-level or in-frame mutation to `frames` (a new list; the inputs are not changed). */
export function mutateFrames(frames: Uint8Array[], m: Mutation): Uint8Array[] {
  const out = frames.slice();
  if (out.length === 0) return out;
  const i = 'frame' in m ? m.frame % out.length : 0;
  const body = out[i]!;
  const tokens = () => tokenize(body);
  const pick = (kinds: Token['kind'][], node: number): Token | undefined => {
    const found = tokens().filter((t) => kinds.includes(t.kind));
    return found.length ? found[node % found.length] : undefined;
  };
  switch (m.op) {
    case 'flip': {
      if (body.length === 0) return out;
      const copy = Uint8Array.from(body);
      copy[m.pos % copy.length]! ^= 1 << m.bit;
      out[i] = copy;
      return out;
    }
    case 'truncate':
      out[i] = body.subarray(0, m.len % (body.length + 1));
      return out;
    case 'dup':
      out.splice(i, 0, body);
      return out;
    case 'drop':
      out.splice(i, 1);
      return out;
    case 'swap': {
      const a = m.a % out.length;
      const b = m.b % out.length;
      [out[a], out[b]] = [out[b]!, out[a]!];
      return out;
    }
    case 'splice': {
      const at = m.pos % (body.length + 1);
      out[i] = replaceRange(body, at, Math.min(body.length, at + m.bytes.length), m.bytes);
      return out;
    }
    case 'insert':
      out.splice(i, 0, m.bytes);
      return out;
    case 'number':
    case 'string': {
      const t = pick([m.op], m.node);
      if (!t) return out;
      const table = m.op === 'number' ? NUMBERS : STRINGS;
      out[i] = replaceRange(body, t.start, t.end, encode(table[m.value % table.length]));
      return out;
    }
    case 'count': {
      const t = pick(['array', 'map'], m.node);
      if (!t) return out;
      const copy = Uint8Array.from(body);
      const view = new DataView(copy.buffer);
      if (t.countSize === 0) {
        const lead = copy[t.start]!;
        copy[t.start] = (lead & 0xf0) | (((lead & 0x0f) + m.delta) & 0x0f);
      } else if (t.countSize === 2) {
        view.setUint16(t.countAt!, (view.getUint16(t.countAt!) + m.delta) & 0xffff);
      } else {
        view.setUint32(t.countAt!, (view.getUint32(t.countAt!) + m.delta) >>> 0);
      }
      out[i] = copy;
      return out;
    }
    case 'extType': {
      const t = pick(['ext'], m.node);
      if (!t) return out;
      const copy = Uint8Array.from(body);
      copy[t.typeAt!] = m.type;
      out[i] = copy;
      return out;
    }
    default:
      return out;
  }
}

/** Frames as they go on a stream: each with its 4-byte big-endian length. */
export function framed(frames: Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const f of frames) {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(f.byteLength, 0);
    parts.push(head, f);
  }
  return Buffer.concat(parts);
}

/** Applies the stream-level mutations (bit flips anywhere, length prefixes included; a cut) to a framed stream. */
export function mutateStream(stream: Buffer, mutations: Mutation[]): Buffer {
  let out = stream;
  for (const m of mutations) {
    if (out.length === 0) break;
    if (m.op === 'streamFlip') {
      out = Buffer.from(out);
      out[m.pos % out.length]! ^= 1 << m.bit;
    } else if (m.op === 'streamCut') {
      out = out.subarray(0, m.pos % (out.length + 1));
    }
  }
  return out;
}

/**
 * How the receiver will cut `stream` into frames: the frames that arrive whole, and whether it stops on a length
 * over `maxFrameSize` or ends inside a frame.
 */
export function cutFrames(
  stream: Buffer,
  maxFrameSize: number,
): { frames: Buffer[]; end: 'clean' | 'over' | 'partial' } {
  const frames: Buffer[] = [];
  let at = 0;
  while (at < stream.length) {
    if (stream.length - at < 4) return { frames, end: 'partial' };
    const len = stream.readUInt32BE(at);
    if (len > maxFrameSize) return { frames, end: 'over' };
    if (stream.length - at - 4 < len) return { frames, end: 'partial' };
    frames.push(stream.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { frames, end: 'clean' };
}
