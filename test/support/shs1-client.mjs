#!/usr/bin/env node
// The client under test for shs1-test's client suite (`shs1testclient test/support/shs1-client.mjs`), on the built
// package: `npm run build` first. Arguments (hex): network key, server public key. It uses fresh long-term keys,
// speaks Secret Handshake v1 on stdin/stdout, then writes the outcome (encryption key and nonce, then decryption key
// and nonce: 112 bytes) and exits 0. On any failure it writes nothing more and exits 1.
// SHS1_DEBUG=1 prints why a handshake failed on stderr.
import { Duplex } from 'node:stream';
import { clientHandshake, generateKeys } from 'netref/secret-handshake';

const [networkKey, serverKey] = process.argv.slice(2).map((h) => new Uint8Array(Buffer.from(h ?? '', 'hex')));
const stdio = Duplex.from({ readable: process.stdin, writable: process.stdout });

try {
  const r = await clientHandshake(stdio, { networkKey, keys: generateKeys(), serverKey });
  stdio.end(Buffer.concat([r.encryptKey, r.encryptNonce, r.decryptKey, r.decryptNonce]));
  stdio.on('finish', () => process.exit(0));
} catch (error) {
  if (process.env.SHS1_DEBUG) process.stderr.write(`shs1-client: ${error.message}\n`);
  process.exit(1);
}
