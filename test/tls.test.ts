import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import {
  AuthenticationError,
  connect,
  currentCall,
  ForkingServer,
  generateKeys,
  randomNetworkKey,
  shsClient,
  shsServer,
  Server,
  ThreadedServer,
  Service,
  tlsAuthenticator,
  type Authenticator,
  type Remote,
  type ShsCredentials,
  type TlsAuthenticatorOptions,
  type TlsCredentials,
} from '../src/index.js';
import { until, within } from './support/pair.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
// Workers cannot load TypeScript on their own on Node 20: the worker first imports this preload.
const preload = [new URL('./support/tsxWorker.mjs', import.meta.url)];

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** PEM files made at test time: a CA, a server and a client it signed, and a self-signed stranger. */
interface Pems {
  ca: Buffer;
  serverKey: Buffer;
  serverCert: Buffer;
  clientKey: Buffer;
  clientCert: Buffer;
  strangerKey: Buffer;
  strangerCert: Buffer;
}

function makeCertificates(dir: string): Pems {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=netref test CA');
  const signed = (name: string, subject: string, ext: string, serial: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    run(
      'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial,
      '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`,
    ); // prettier-ignore
  };
  signed('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', '2');
  signed('client', '/CN=netref client', 'extendedKeyUsage=clientAuth\n', '3');
  run('req', '-x509', ...ec, '-keyout', 'stranger.key', '-out', 'stranger.crt', '-days', '2', '-subj', '/CN=stranger',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'); // prettier-ignore
  const read = (f: string) => readFileSync(join(dir, f));
  return {
    ca: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientKey: read('client.key'),
    clientCert: read('client.crt'),
    strangerKey: read('stranger.key'),
    strangerCert: read('stranger.crt'),
  };
}

class CalcService extends Service {
  add(a: number, b: number) {
    return a + b;
  }
  /** The common name of the client's certificate as this server saw it, or null without one. */
  clientName(): string | null {
    const credentials = currentCall()?.connection.peer.credentials as TlsCredentials | undefined;
    const cn = credentials?.certificate?.subject?.CN;
    return Array.isArray(cn) ? cn.join(',') : (cn ?? null);
  }
}

/** Sockets (plain or TLS) open in this process: what a failed connect must not leave behind. */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length;
}

/** A TLS server on a free port of 127.0.0.1, collecting its `error` events. */
async function startServer(tls: TlsAuthenticatorOptions, handshakeTimeout = 5000) {
  const server = new Server(CalcService, {
    port: 0,
    authenticator: tlsAuthenticator(tls),
    protocolConfig: { handshakeTimeout },
  });
  const errors: Error[] = [];
  server.on('error', (e: Error) => errors.push(e));
  await server.start();
  return { server, port: server.port!, errors };
}

describe('TLS', () => {
  let dir: string;
  let pem: Pems;

  before(() => {
    // The certificates are made at test time; without openssl this suite fails, saying so, rather than pass.
    assert.ok(hasOpenssl, 'the TLS tests need the openssl command (Debian package openssl) to make certificates');
    dir = mkdtempSync(join(tmpdir(), 'netref-tls-'));
    pem = makeCertificates(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A client the server trusts still gets served: the server carried on after whatever failed before. */
  async function assertServes(port: number, client: { key?: Buffer; cert?: Buffer } = {}): Promise<void> {
    const conn = await connect('127.0.0.1', port, { tls: { ca: pem.ca, ...client } });
    assert.equal(await (conn.root as Remote<CalcService>).add(2, 3), 5);
    await conn.close();
  }

  it('encrypts a connection the client checks against its CA, and gives it the server certificate', async () => {
    const { server, port } = await startServer({ key: pem.serverKey, cert: pem.serverCert });
    try {
      const conn = await connect(`tcp://127.0.0.1:${port}`, { tls: { ca: pem.ca } });
      const calc = conn.root as Remote<CalcService>;
      assert.equal(await calc.add(20, 22), 42);
      const credentials = conn.peer.credentials as TlsCredentials;
      assert.equal(credentials.certificate?.subject.CN, 'localhost');
      assert.equal(credentials.certificate?.issuer.CN, 'netref test CA');
      assert.equal(await calc.clientName(), null, 'no client certificate was asked for');
      const [served] = server.connections;
      assert.deepEqual(served!.peer.credentials, {}, 'the server side has no certificate to show');
      await conn.close();
      // The name checked can differ from the address dialled.
      const named = await connect('127.0.0.1', port, { tls: { ca: pem.ca, servername: 'localhost' } });
      assert.equal(await (named.root as Remote<CalcService>).add(1, 1), 2);
      await named.close();
    } finally {
      await server.close();
    }
  });

  it('mutual TLS: each end sees the certificate of the other', async () => {
    const { server, port } = await startServer({
      key: pem.serverKey,
      cert: pem.serverCert,
      ca: pem.ca,
      requestCert: true,
    });
    try {
      const conn = await connect('127.0.0.1', port, {
        tls: { ca: pem.ca, key: pem.clientKey, cert: pem.clientCert },
      });
      const calc = conn.root as Remote<CalcService>;
      assert.equal(await calc.clientName(), 'netref client');
      assert.equal((conn.peer.credentials as TlsCredentials).certificate?.subject.CN, 'localhost');
      const [served] = server.connections;
      const certificate = (served!.peer.credentials as TlsCredentials).certificate as PeerCertificate;
      assert.equal(certificate.subject.CN, 'netref client');
      assert.equal(certificate.issuer.CN, 'netref test CA');
      assert.equal((served!.peer.credentials as TlsCredentials).authorizationError, undefined);
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('refuses a client without a certificate when one is required, and carries on', async () => {
    const { server, port, errors } = await startServer({
      key: pem.serverKey,
      cert: pem.serverCert,
      ca: pem.ca,
      requestCert: true,
    });
    try {
      // Under TLS 1.3 the client finishes its half of the handshake first and learns of the refusal after.
      await assert.rejects(connect('127.0.0.1', port, { tls: { ca: pem.ca } }));
      await until(() => errors.length > 0, 5000, 'the server to report the refusal');
      assert.ok(errors[0] instanceof AuthenticationError, String(errors[0]));
      assert.match(errors[0]!.message, /TLS handshake with 127\.0\.0\.1:\d+ failed: .*CERTIFICATE/);
      assert.equal(server.clientCount, 0);
      await assertServes(port, { key: pem.clientKey, cert: pem.clientCert });
    } finally {
      await server.close();
    }
  });

  it('refuses a client certificate from an unknown CA, and carries on', async () => {
    const { server, port, errors } = await startServer({
      key: pem.serverKey,
      cert: pem.serverCert,
      ca: pem.ca,
      requestCert: true,
    });
    try {
      const stranger = { ca: pem.ca, key: pem.strangerKey, cert: pem.strangerCert };
      await assert.rejects(connect('127.0.0.1', port, { tls: stranger }));
      await until(() => errors.length > 0, 5000, 'the server to report the refusal');
      assert.ok(errors[0] instanceof AuthenticationError, String(errors[0]));
      assert.match(errors[0]!.message, /client certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
      assert.equal((errors[0] as NodeJS.ErrnoException).code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      assert.equal(server.clientCount, 0);
      await assertServes(port, { key: pem.clientKey, cert: pem.clientCert });
    } finally {
      await server.close();
    }
  });

  it('admits an untrusted client certificate with rejectUnauthorized: false, saying why it is untrusted', async () => {
    const { server, port } = await startServer({
      key: pem.serverKey,
      cert: pem.serverCert,
      ca: pem.ca,
      requestCert: true,
      rejectUnauthorized: false,
    });
    try {
      const conn = await connect('127.0.0.1', port, {
        tls: { ca: pem.ca, key: pem.strangerKey, cert: pem.strangerCert },
      });
      assert.equal(await (conn.root as Remote<CalcService>).clientName(), 'stranger');
      const [served] = server.connections;
      assert.equal((served!.peer.credentials as TlsCredentials).authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('fails the client on a server certificate it does not trust, or for another name, leaving no socket', async () => {
    const { server, port } = await startServer({ key: pem.strangerKey, cert: pem.strangerCert });
    try {
      const before = openSockets();
      const untrusted = await connect('127.0.0.1', port, { tls: { ca: pem.ca } }).then(
        () => assert.fail('connect should reject'),
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      assert.ok(untrusted instanceof AuthenticationError, String(untrusted));
      assert.equal(untrusted.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      assert.match(
        untrusted.message,
        /TLS handshake with tcp:\/\/127\.0\.0\.1:\d+ failed: DEPTH_ZERO_SELF_SIGNED_CERT .*give the CA/,
      );
      // Node's default roots do not trust it either.
      await assert.rejects(connect('127.0.0.1', port, { tls: {} }), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      await until(() => openSockets() <= before, 5000, 'the sockets of the failed connects to close');

      // The stranger certificate is trusted now, but not for this name.
      await assert.rejects(connect('127.0.0.1', port, { tls: { ca: pem.strangerCert, servername: 'example.com' } }), {
        name: 'AuthenticationError',
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        message: /TLS handshake with tcp:\/\/127\.0\.0\.1:\d+ failed: ERR_TLS_CERT_ALTNAME_INVALID .*example\.com/,
      });
      await until(() => openSockets() <= before, 5000, 'the sockets of the failed connect to close');
      const conn = await connect('127.0.0.1', port, { tls: { ca: pem.strangerCert } });
      assert.equal(await (conn.root as Remote<CalcService>).add(1, 2), 3);
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('drops a socket that never speaks TLS after handshakeTimeout, and carries on', async () => {
    const { server, port, errors } = await startServer({ key: pem.serverKey, cert: pem.serverCert }, 300);
    try {
      const silent = net.connect({ host: '127.0.0.1', port });
      silent.on('error', () => {});
      const closed = new Promise((resolve) => silent.once('close', resolve));
      await within(closed, 5000, 'the server to drop the silent socket');
      await until(() => errors.length > 0, 5000, 'the server to report the timeout');
      assert.match(errors[0]!.message, /300 ms/);
      await assertServes(port);
    } finally {
      await server.close();
    }
  });

  it('fails the client when the server does not answer its TLS handshake in time', async () => {
    const sockets = new Set<net.Socket>();
    const mute = net.createServer((s) => {
      sockets.add(s);
      s.resume(); // reads (and drops) the ClientHello, so it sees the client go
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const { port } = mute.address() as net.AddressInfo;
    try {
      const started = Date.now();
      await assert.rejects(
        connect('127.0.0.1', port, { tls: { ca: pem.ca }, protocolConfig: { handshakeTimeout: 300 } }),
        { name: 'AuthenticationError', code: 'ETIMEDOUT', message: /did not finish within 300 ms/ },
      );
      assert.ok(Date.now() - started < 3000);
      await until(() => sockets.size === 0, 5000, 'the client to close its socket');
    } finally {
      await new Promise((resolve) => mute.close(resolve));
    }
  });

  it('a plain client and a TLS server (and the other way round) fail clearly', async () => {
    const { server, port, errors } = await startServer({ key: pem.serverKey, cert: pem.serverCert });
    const plain = new Server(CalcService, { port: 0 });
    await plain.start();
    try {
      await assert.rejects(connect('127.0.0.1', port, { protocolConfig: { handshakeTimeout: 2000 } }), (e: Error) => {
        assert.match(e.message, /TLS/, `says TLS is expected: ${e.message}`);
        return true;
      });
      await until(() => errors.length > 0, 5000, 'the server to report the failed handshake');
      assert.ok(errors[0] instanceof AuthenticationError);
      await assert.rejects(connect('127.0.0.1', plain.port!, { tls: { ca: pem.ca } }), {
        name: 'AuthenticationError',
        message: /TLS handshake with tcp:\/\/127\.0\.0\.1:\d+ failed/,
      });
      await assertServes(port);
    } finally {
      await Promise.all([server.close(), plain.close()]);
    }
  });

  it('hands the client certificate to a ThreadedServer worker and a ForkingServer child', async () => {
    const tls = { key: pem.serverKey, cert: pem.serverCert, ca: pem.ca, requestCert: true };
    const client = { tls: { ca: pem.ca, key: pem.clientKey, cert: pem.clientCert } };
    const threaded = new ThreadedServer(fixture('thread-service.ts'), {
      port: 0,
      workers: 1,
      preload,
      authenticator: tlsAuthenticator(tls),
    });
    const forking = new ForkingServer(
      { module: fixture('forking-service.ts'), export: 'ForkingService' },
      { port: 0, authenticator: tlsAuthenticator(tls) },
    );
    await Promise.all([threaded.start(), forking.start()]);
    try {
      const inThread = await connect('127.0.0.1', threaded.port!, client);
      const peer = JSON.parse(await (inThread.root as Remote<{ peer(): string }>).peer()) as {
        credentials: TlsCredentials;
      };
      assert.equal(peer.credentials.certificate?.subject.CN, 'netref client');
      await inThread.close();
      const inChild = await connect('127.0.0.1', forking.port!, client);
      const credentials = await (inChild.root as Remote<{ credentials(): TlsCredentials }>).credentials();
      assert.equal(credentials.certificate?.subject.CN, 'netref client');
      await inChild.close();
    } finally {
      await Promise.all([threaded.close(), forking.close()]);
    }
  });

  it('runs an auth authenticator on top of TLS; the credentials of both arrive together', async () => {
    const networkKey = randomNetworkKey();
    const [serverKeys, clientKeys] = [generateKeys(), generateKeys()];
    const tls = tlsAuthenticator({ key: pem.serverKey, cert: pem.serverCert });
    const shs = shsServer({ networkKey, keys: serverKeys });
    const both: Authenticator = async (stream, info) => {
      const outer = await tls(stream, info);
      const inner = await shs(outer.stream, info);
      return {
        stream: inner.stream,
        credentials: { ...(outer.credentials as object), ...(inner.credentials as object) },
      };
    };
    const server = new Server(CalcService, { port: 0, authenticator: both });
    await server.start();
    try {
      const conn = await connect('127.0.0.1', server.port!, {
        tls: { ca: pem.ca },
        auth: shsClient({ networkKey, keys: clientKeys, serverKey: serverKeys.publicKey }),
      });
      assert.equal(await (conn.root as Remote<CalcService>).add(4, 5), 9);
      const credentials = conn.peer.credentials as TlsCredentials & ShsCredentials;
      assert.equal(credentials.certificate?.subject.CN, 'localhost');
      assert.deepEqual(credentials.publicKey, serverKeys.publicKey);
      const [served] = server.connections;
      assert.deepEqual((served!.peer.credentials as ShsCredentials).publicKey, clientKeys.publicKey);
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('checks its options at once', () => {
    assert.throws(() => tlsAuthenticator({} as TlsAuthenticatorOptions), /needs the server key/);
    assert.throws(() => tlsAuthenticator({ key: 'not a key', cert: pem.serverCert }));
  });
});
