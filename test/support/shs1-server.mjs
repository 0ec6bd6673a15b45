#!/usr/bin/env node
// The server under test for shs1-test's server suite (`shs1testserver test/support/shs1-server.mjs`), on the built
// package: `npm run build` first. Arguments (hex): network key, server secret key (64 bytes), server public key.
// It speaks Secret Handshake v1 on stdin/stdout; after msg4 it writes the outcome (encryption key and nonce, then
// decryption key and nonce: 112 bytes) and exits 0. On any failure it writes nothing more and exits 1.
// SHS1_DEBUG=1 prints why a handshake failed on stderr.
import { Duplex } from 'node:stream';
import { serverHandshake } from 'netref/secret-handshake';

const [networkKey, secretKey, publicKey] = process.argv
  .slice(2)
  .map((h) => new Uint8Array(Buffer.from(h ?? '', 'hex')));
const stdio = Duplex.from({ readable: process.stdin, writable: process.stdout });

try {
  const r = await serverHandshake(stdio, { networkKey, keys: { publicKey, secretKey } });
  stdio.end(Buffer.concat([r.encryptKey, r.encryptNonce, r.decryptKey, r.decryptNonce]));
  stdio.on('finish', () => process.exit(0));
} catch (error) {
  if (process.env.SHS1_DEBUG) process.stderr.write(`shs1-server: ${error.message}\n`);
  process.exit(1);
}
