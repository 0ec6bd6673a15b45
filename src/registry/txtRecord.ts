import { PROTOCOL_VERSION } from '../protocol/index.js';

/** How a client must authenticate: `none`, `shs` (the secure channel), `tls`, or another word for a custom hook. */
export type AuthKind = 'none' | 'shs' | 'tls' | (string & {});

/** What a netref announcement says about itself (DESIGN §7). */
export interface TxtInfo {
  /** Discovery names: the derived name first, then the aliases. */
  names: readonly string[];
  auth?: AuthKind;
  /** The server's long-term public key, where `auth` is `shs`: a hint only (pin keys out of band). */
  publicKey?: Uint8Array | string;
}

/** RFC 6763 §6.1: one TXT string holds at most 255 bytes. */
const MAX_ENTRY_BYTES = 255;

function checkEntry(key: string, value: string): void {
  const bytes = Buffer.byteLength(`${key}=${value}`);
  if (bytes > MAX_ENTRY_BYTES) {
    throw new RangeError(`the TXT entry '${key}' is ${bytes} bytes; one entry holds at most ${MAX_ENTRY_BYTES}`);
  }
}

/**
 * The TXT record of an announcement: `names=A,B`, `v=<protocol major>`, `auth=…`, and `pk=<base64>` with `auth=shs`.
 * Throws a TypeError or RangeError naming what is wrong (a name with a comma, an entry over 255 bytes), so that a bad
 * record never reaches bonjour-service, whose encoder would throw inside a socket callback and crash the process.
 */
export function buildTxt(info: TxtInfo): Record<string, string> {
  const names = [...new Set(info.names.map((n) => String(n).toUpperCase()))];
  if (names.length === 0) throw new TypeError('an announcement needs at least one name');
  for (const n of names) {
    if (!/^[\x21-\x7e]+$/.test(n) || n.includes(',')) {
      throw new TypeError(`discovery names are printable ASCII without spaces or commas, got ${JSON.stringify(n)}`);
    }
  }
  const auth = info.auth ?? 'none';
  if (!/^[a-z0-9-]{1,32}$/.test(auth))
    throw new TypeError(`auth is a short lowercase word, got ${JSON.stringify(auth)}`);
  const txt: Record<string, string> = { names: names.join(','), v: String(PROTOCOL_VERSION.major), auth };
  if (info.publicKey !== undefined) {
    txt.pk = typeof info.publicKey === 'string' ? info.publicKey : Buffer.from(info.publicKey).toString('base64');
  }
  for (const [k, v] of Object.entries(txt)) checkEntry(k, v);
  return txt;
}

/**
 * Reads a TXT record as the wire gives it (a list of byte strings) into `{ key: value }`. Keys are matched
 * case-insensitively and the first occurrence wins (RFC 6763 §6.4); a key without `=` maps to `''`; empty strings
 * are skipped. Never throws: a garbled record reads as whatever of it makes sense.
 */
export function parseTxt(data: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const items = Array.isArray(data) ? data : data === undefined || data === null ? [] : [data];
  for (const item of items) {
    const text =
      Buffer.isBuffer(item) || item instanceof Uint8Array ? Buffer.from(item).toString('utf8') : String(item);
    if (!text) continue;
    const eq = text.indexOf('=');
    const key = (eq === -1 ? text : text.slice(0, eq)).toLowerCase();
    if (!key || key in out) continue;
    out[key] = eq === -1 ? '' : text.slice(eq + 1);
  }
  return { ...out };
}

/** The discovery names a TXT record lists (`names=A,B`), upper-cased; empty when it lists none. */
export function txtNames(txt: Record<string, string>): string[] {
  return (txt.names ?? '')
    .split(',')
    .map((n) => n.trim().toUpperCase())
    .filter(Boolean);
}
