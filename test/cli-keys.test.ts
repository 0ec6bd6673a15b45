import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import nacl from 'tweetnacl';
import { parseKey, readAuthorizedKeys, readKeyFile, writeKeyFile } from '../src/auth/index.js';
import { clientAuthFromFlags } from '../src/cli/clientAuthFromFlags.js';
import { UsageError } from '../src/cli/UsageError.js';
import {
  AuthenticationError,
  ConnectionClosedError,
  connect,
  generateKeys,
  randomNetworkKey,
  shsClient,
  type KeyPair,
  type Remote,
  type ShsCredentials,
} from '../src/index.js';
import { root, runCli, startCli, stopCli } from './support/netrefCli.js';

const calc = join(root, 'test', 'fixtures', 'cli-calc.mjs');
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

interface Calc {
  add(a: number, b: number): number;
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netref-keys-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh path in the test's temp dir. */
let n = 0;
const fresh = (name: string) => join(dir, `${++n}-${name}`);

describe('key files', () => {
  it('writes a key file readable by its owner only, and reads it back', () => {
    const keys = generateKeys();
    const path = fresh('key.json');
    writeKeyFile(path, keys);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(json).sort(), ['publicKey', 'secretKey']);
    assert.equal(json.publicKey, b64(keys.publicKey));
    assert.deepEqual(readKeyFile(path), { publicKey: keys.publicKey, secretKey: keys.secretKey });
    assert.throws(() => writeKeyFile(path, generateKeys()), { code: 'EEXIST', message: /already exists/ });
    chmodSync(path, 0o644);
    const other = generateKeys();
    writeKeyFile(path, other, { overwrite: true });
    assert.equal(statSync(path).mode & 0o777, 0o600, 'a replaced file is made private too');
    assert.deepEqual(readKeyFile(path).publicKey, other.publicKey);
  });

  it('refuses a key file that is not JSON, lacks a key, has the wrong lengths or mismatched halves', () => {
    const keys = generateKeys();
    const cases: [string, RegExp][] = [
      ['not json', /is not JSON/],
      ['{"publicKey": "abc"}', /needs "publicKey" and "secretKey"/],
      [JSON.stringify({ publicKey: b64(keys.secretKey), secretKey: b64(keys.secretKey) }), /publicKey in .* 32 bytes/],
      [JSON.stringify({ publicKey: b64(keys.publicKey), secretKey: 'no*base64' }), /secretKey in .* not valid base64/],
      [
        JSON.stringify({ publicKey: b64(generateKeys().publicKey), secretKey: b64(keys.secretKey) }),
        /inconsistent: its secretKey does not belong to its publicKey/,
      ],
    ];
    for (const [text, message] of cases) {
      const path = fresh('bad.json');
      writeFileSync(path, text);
      assert.throws(
        () => readKeyFile(path),
        (e: Error) => {
          assert.match(e.message, message);
          assert.ok(e.message.includes(path), `names the file: ${e.message}`);
          assert.ok(!e.message.includes(b64(keys.secretKey)), 'never quotes the secret key');
          return true;
        },
      );
    }
    assert.throws(() => readKeyFile(join(dir, 'missing.json')), /cannot read the key file .*missing\.json: ENOENT/);
  });

  it('reads an authorized-keys file: comments, blank lines, trailing comments, CRLF', () => {
    const [a, b, c] = [generateKeys(), generateKeys(), generateKeys()];
    const path = fresh('authorized');
    const lines = ['# team keys', '', b64(a.publicKey), `  ${b64(b.publicKey)}   alice@laptop\r`, '\t# old key'];
    writeFileSync(path, [...lines, `${b64(c.publicKey)} # ci`, '', ''].join('\n'));
    assert.deepEqual(readAuthorizedKeys(path), [a.publicKey, b.publicKey, c.publicKey]);
    const empty = fresh('empty');
    writeFileSync(empty, '# nobody yet\n');
    assert.deepEqual(readAuthorizedKeys(empty), []);
  });

  it('names the file and the line of a bad authorized key', () => {
    const path = fresh('authorized');
    writeFileSync(path, `# keys\n${b64(generateKeys().publicKey)}\n${b64(new Uint8Array(16))} short\n`);
    assert.throws(() => readAuthorizedKeys(path), { message: `${path} line 3 must be 32 bytes, got 16` });
    writeFileSync(path, `\n\nssh-ed25519 AAAA\n`);
    assert.throws(() => readAuthorizedKeys(path), new RegExp(`${path} line 3 is not valid base64`));
  });

  it('parses base64 keys strictly', () => {
    const key = randomNetworkKey();
    assert.deepEqual(parseKey(b64(key), 'k', 32), key);
    assert.throws(() => parseKey(b64(key).slice(0, -1), '--network-key', 32), /--network-key is not valid base64/);
    assert.throws(() => parseKey(`${b64(key)}!`, '--network-key', 32), /not valid base64/);
    assert.throws(() => parseKey(b64(key.subarray(0, 31)), '--network-key', 32), /must be 32 bytes, got 31/);
    assert.throws(() => parseKey('', '--server-key', 32), /--server-key is empty/);
  });
});

describe('netref keygen', () => {
  it('prints the key file JSON without --out', async () => {
    const r = await runCli(['keygen']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { publicKey: string; secretKey: string };
    const publicKey = parseKey(json.publicKey, 'publicKey', 32);
    const secretKey = parseKey(json.secretKey, 'secretKey', 64);
    assert.deepEqual(nacl.sign.keyPair.fromSecretKey(secretKey).publicKey, publicKey);
  });

  it('with --out writes the key file (0600) and prints the public key on one line', async () => {
    const path = fresh('server.json');
    const r = await runCli(['keygen', '--out', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(r.stdout.trim(), b64(readKeyFile(path).publicKey));
  });

  it('refuses to overwrite a key file unless --force', async () => {
    const path = fresh('server.json');
    writeFileSync(path, 'precious', { mode: 0o644 });
    const refused = await runCli(['keygen', '--out', path]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already exists \(pass --force to replace it\)/);
    assert.equal(refused.stdout, '');
    assert.equal(readFileSync(path, 'utf8'), 'precious');
    const forced = await runCli(['keygen', '--out', path, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout.trim(), b64(readKeyFile(path).publicKey));
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('rejects bad options with exit 2', async () => {
    for (const [args, message] of [
      [['keygen', '--bogus'], /Unknown option '--bogus'/],
      [['keygen', '--force'], /--force replaces the file of --out/],
      [['keygen', 'extra'], /Unexpected argument 'extra'|positional/i],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 2, `exit code of netref ${args.join(' ')}`);
      assert.match(r.stderr, message);
    }
  });
});

describe('netref serve with the secure channel', () => {
  const networkKey = randomNetworkKey();
  let serverKeys: KeyPair;
  let serverFile: string;
  let authorizedFile: string;
  const alice = generateKeys(); // listed in the authorized-keys file
  const mallory = generateKeys(); // not listed
  let aliceFile: string;

  before(() => {
    serverKeys = generateKeys();
    serverFile = fresh('server.json');
    writeKeyFile(serverFile, serverKeys);
    aliceFile = fresh('alice.json');
    writeKeyFile(aliceFile, alice);
    authorizedFile = fresh('authorized_keys');
    writeFileSync(authorizedFile, `# who may connect\n\n${b64(alice.publicKey)} alice\n`);
  });

  const keyArgs = () => ['--key', serverFile, '--network-key', b64(networkKey), '--authorized-keys', authorizedFile];
  const auth = (keys: KeyPair) => shsClient({ networkKey, keys, serverKey: serverKeys.publicKey });

  it('admits an authorized key, refuses another and a plain client, and says its key on stderr', async () => {
    const { child, uri, stderr } = await startCli(['serve', calc, '--port', '0', ...keyArgs()]);
    try {
      assert.match(stderr(), new RegExp(`server key ${b64(serverKeys.publicKey).replace(/[+/]/g, '\\$&')}`));
      const conn = await connect(uri, { auth: auth(alice) });
      assert.equal(await (conn.root as Remote<Calc>).add(2, 40), 42);
      assert.deepEqual((conn.peer.credentials as ShsCredentials).publicKey, serverKeys.publicKey);
      await conn.close();

      await assert.rejects(connect(uri, { auth: auth(mallory) }), AuthenticationError);
      // A plain client gets no answer at all, not even a refusal: the server hangs up on its first bytes.
      await assert.rejects(
        connect(uri, { protocolConfig: { handshakeTimeout: 500 } }),
        (e: Error) => e instanceof ConnectionClosedError && !/refused/.test(e.message),
      );

      // The helper a client command uses, from the same flags a user would type.
      const flagsAuth = clientAuthFromFlags({
        key: aliceFile,
        networkKey: b64(networkKey),
        serverKey: b64(serverKeys.publicKey),
      });
      const again = await connect(uri, { auth: flagsAuth! });
      assert.equal(await (again.root as Remote<Calc>).add(1, 1), 2);
      await again.close();
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });

  for (const mode of ['threaded', 'forking'] as const) {
    it(`works with --mode ${mode}`, async () => {
      const { child, uri } = await startCli([
        'serve',
        calc,
        '--port',
        '0',
        '--mode',
        mode,
        '--workers',
        '1',
        ...keyArgs(),
      ]);
      try {
        const conn = await connect(uri, { auth: auth(alice) });
        assert.equal(await (conn.root as Remote<Calc>).add(3, 4), 7);
        await conn.close();
        await assert.rejects(connect(uri, { auth: auth(mallory) }), AuthenticationError);
      } finally {
        assert.equal(await stopCli(child), 0);
      }
    });
  }

  it('admits anyone holding the network key without --authorized-keys', async () => {
    const args = ['classic', '--port', '0', '--key', serverFile, '--network-key', b64(networkKey)];
    const { child, uri, stderr } = await startCli(args);
    try {
      assert.match(stderr(), /admitting any client holding the network key/);
      const conn = await connect(uri, { auth: auth(mallory) });
      assert.equal(await conn.root.eval('6 * 7'), 42);
      await conn.close();
      const wrongNetwork = shsClient({ networkKey: randomNetworkKey(), serverKey: serverKeys.publicKey });
      // Without the network key the server never answers msg1.
      await assert.rejects(
        connect(uri, { auth: wrongNetwork, protocolConfig: { handshakeTimeout: 500 } }),
        (e: Error) => e instanceof AuthenticationError && /msg2/.test(e.message),
      );
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });

  it('rejects bad secure-channel options with exit 2 and says which', async () => {
    const badLine = fresh('authorized');
    writeFileSync(badLine, `${b64(alice.publicKey)}\n\nnot-a-key\n`);
    const net = b64(networkKey);
    const cases: [string[], RegExp][] = [
      [['serve', calc, '--key', serverFile], /--key needs --network-key B64 \(there is no default network key\)/],
      [['classic', '--key', serverFile], /--key needs --network-key/],
      [['serve', calc, '--key', serverFile, '--network-key', 'not base64!'], /--network-key is not valid base64/],
      [['serve', calc, '--key', serverFile, '--network-key', b64(new Uint8Array(16))], /--network-key must be 32/],
      [['serve', calc, '--authorized-keys', authorizedFile], /--authorized-keys needs --key FILE/],
      [['serve', calc, '--network-key', net], /--network-key needs --key FILE/],
      [['serve', calc, '--stdio', '--key', serverFile, '--network-key', net], /--stdio .* need a socket/],
      [['serve', calc, '--key', join(dir, 'nope.json'), '--network-key', net], /cannot read the key file .*ENOENT/],
      [['serve', calc, ...keyArgs().slice(0, 4), '--authorized-keys', badLine], /line 3 is not valid base64/],
      [['classic', '--register', '--path', join(dir, 'x.sock')], /--register and --registry announce a TCP port/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `exit code of netref ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

describe('clientAuthFromFlags', () => {
  const networkKey = b64(randomNetworkKey());
  const serverKey = b64(generateKeys().publicKey);

  it('gives no auth without flags, and an authenticator with them', () => {
    assert.equal(clientAuthFromFlags({}), undefined);
    assert.equal(typeof clientAuthFromFlags({ networkKey, serverKey }), 'function', '--key is optional');
  });

  it('throws a UsageError naming the missing or bad flag', () => {
    const cases: [Parameters<typeof clientAuthFromFlags>[0], RegExp][] = [
      [{ serverKey }, /needs --network-key/],
      [{ networkKey }, /needs --server-key/],
      [{ key: 'k.json', serverKey }, /needs --network-key/],
      [{ networkKey, serverKey: 'nope!' }, /--server-key is not valid base64/],
      [{ networkKey: b64(new Uint8Array(8)), serverKey }, /--network-key must be 32 bytes, got 8/],
      [{ networkKey, serverKey, key: join(dir, 'nope.json') }, /cannot read the key file/],
    ];
    for (const [flags, message] of cases) {
      assert.throws(
        () => clientAuthFromFlags(flags),
        (e: Error) => {
          assert.ok(e instanceof UsageError, `${e.name}: ${e.message}`);
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });
});
