import { closeSync, fchmodSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { KeyPair } from './shs/keys.js';
import { loadNacl } from './shs/loadNacl.js';

/*
 * Keys on disk and on the command line (DESIGN §3, §6), all base64 (standard alphabet, with padding):
 *   a key file          {"publicKey": "<b64 of 32 bytes>", "secretKey": "<b64 of 64 bytes>"}  (netref keygen --out)
 *   an authorized-keys  one base64 public key per line, optionally followed by whitespace and a comment; blank
 *   file                lines and lines starting with '#' are ignored
 * Every error names the file (and the line), and never quotes a secret key.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a base64 key of `length` bytes. Throws an Error naming `what` (e.g. `--network-key`) when `text` is not
 * base64 or decodes to another length. Strict: Node's decoder would silently skip stray characters.
 */
export function parseKey(text: string, what: string, length: number): Uint8Array {
  if (typeof text !== 'string' || text.length === 0)
    throw new Error(`${what} is empty; expected base64 of ${length} bytes`);
  if (!BASE64.test(text)) throw new Error(`${what} is not valid base64 (expected ${length} bytes in base64)`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (bytes.length !== length) throw new Error(`${what} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`cannot read the ${what} ${path}: ${code ?? (error as Error).message}`, { cause: error });
  }
}

/**
 * Reads a key file as `netref keygen --out` writes it. Throws an Error naming the file when it cannot be read, is
 * not that JSON, holds keys of the wrong length, or a secret key whose public half is not `publicKey` (a file
 * edited by hand, or two files mixed up: the handshake would fail later with a less helpful error).
 */
export function readKeyFile(path: string): KeyPair {
  const text = readText(path, 'key file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the key file ${path} is not JSON; expected {"publicKey": "<base64>", "secretKey": "<base64>"}`);
  }
  const o = json as { publicKey?: unknown; secretKey?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.publicKey !== 'string' || typeof o.secretKey !== 'string') {
    throw new Error(`the key file ${path} needs "publicKey" and "secretKey", both base64 strings`);
  }
  const publicKey = parseKey(o.publicKey, `publicKey in ${path}`, 32);
  const secretKey = parseKey(o.secretKey, `secretKey in ${path}`, 64);
  // tweetnacl's layout: the 32-byte seed, then the public key. Both halves must agree with "publicKey".
  const nacl = loadNacl();
  const derived = nacl.sign.keyPair.fromSeed(secretKey.subarray(0, 32)).publicKey;
  if (!nacl.verify(derived, publicKey) || !nacl.verify(secretKey.subarray(32), publicKey)) {
    throw new Error(`the key file ${path} is inconsistent: its secretKey does not belong to its publicKey`);
  }
  return { publicKey, secretKey };
}

/** The text of a key file holding `keys`: JSON with both keys in base64, and a final newline. */
export function keyFileText(keys: KeyPair): string {
  const json = {
    publicKey: Buffer.from(keys.publicKey).toString('base64'),
    secretKey: Buffer.from(keys.secretKey).toString('base64'),
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/**
 * Writes `keys` as a key file, readable by its owner only (mode 0600, also when replacing a file). Refuses to
 * replace an existing file (EEXIST, named) unless `overwrite` is set.
 */
export function writeKeyFile(path: string, keys: KeyPair, { overwrite = false }: { overwrite?: boolean } = {}): void {
  const text = keyFileText(keys);
  let fd: number;
  try {
    fd = openSync(path, overwrite ? 'w' : 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'it already exists' : (code ?? (error as Error).message);
    const e = new Error(`cannot write the key file ${path}: ${why}`, { cause: error });
    (e as NodeJS.ErrnoException).code = code;
    throw e;
  }
  try {
    // The mode given to open applies only to a new file; a replaced one keeps its old mode unless told.
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an authorized-keys file: the public keys (32 bytes each) it lists, in order. Throws an Error naming the
 * file and the line number for a line that is not a base64 public key; one that cannot be read, by its path.
 */
export function readAuthorizedKeys(path: string): Uint8Array[] {
  const keys: Uint8Array[] = [];
  const lines = readText(path, 'authorized-keys file').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [key] = line.split(/\s+/, 1);
    keys.push(parseKey(key!, `${path} line ${i + 1}`, 32));
  });
  return keys;
}
