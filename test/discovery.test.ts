// Discovery without the network: TXT records, names, the registry on 127.0.0.1, and announce/discover over a fake
// multicast link (test/support/fakeMdns.ts) that can drop records, fail sends and replay goodbyes, to show how each
// known weakness of bonjour-service is handled. The real-multicast tests are in discovery-netns.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import Bonjour from 'bonjour-service';
import { discoverCommand } from '../src/cli/discoverCommand.js';
import { UsageError } from '../src/cli/UsageError.js';
import {
  connectByService,
  DiscoveryError,
  ForkingServer,
  generateKeys,
  PROTOCOL_VERSION,
  randomNetworkKey,
  Server,
  Service,
  shsServer,
  ThreadedServer,
} from '../src/index.js';
import {
  announce,
  announcedAuth,
  buildTxt,
  discover,
  matchService,
  parseTxt,
  registryAddress,
  RegistryServer,
  type Announcement,
} from '../src/registry/index.js';
import { instanceCandidate } from '../src/registry/mdnsNames.js';
import { FakeLan, unreachable, type Packet } from './support/fakeMdns.js';

const V = String(PROTOCOL_VERSION.major);

/** Runs `fn` after the test, in reverse order, whatever happened. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function announced(lan: FakeLan, address: string, ...args: Parameters<typeof announce>): Promise<Announcement> {
  const a = await announce(args[0], { withdrawOnExit: false, ...args[1], socket: lan.socket(address) });
  cleanups.push(() => a.close());
  return a;
}

function find(lan: FakeLan, name?: string, timeout = 400) {
  return discover(name, { timeout, socket: lan.socket('10.0.0.99') });
}

class CalculatorService extends Service {
  static override aliases = ['calc'];
  add(a: number, b: number) {
    return a + b;
  }
}

describe('TXT records', () => {
  it('carries names, the protocol major, the auth kind and the public key', () => {
    const pk = new Uint8Array(32).fill(7);
    assert.deepEqual(buildTxt({ names: ['CALCULATOR', 'calc'], auth: 'shs', publicKey: pk }), {
      names: 'CALCULATOR,CALC',
      v: V,
      auth: 'shs',
      pk: Buffer.from(pk).toString('base64'),
    });
    assert.deepEqual(buildTxt({ names: ['ECHO'] }), { names: 'ECHO', v: V, auth: 'none' });
  });

  it('refuses what would not survive the wire: commas in names, entries over 255 bytes, no name', () => {
    assert.throws(() => buildTxt({ names: ['A,B'] }), /commas/);
    assert.throws(() => buildTxt({ names: ['has space'] }), /printable ASCII/);
    assert.throws(() => buildTxt({ names: Array.from({ length: 40 }, (_, i) => `NAME${i}X`) }), /at most 255/);
    assert.throws(() => buildTxt({ names: [] }), /at least one name/);
    assert.throws(() => buildTxt({ names: ['A'], auth: 'Bad Kind' }), /auth/);
  });

  it('parses the wire form: keys case-insensitive, the first occurrence wins, bare keys, garbage tolerated', () => {
    const b = (s: string) => Buffer.from(s);
    assert.deepEqual(parseTxt([b('Names=A,B'), b('v=1'), b('V=9'), b('flag'), b(''), b('=x'), b('pk=a=b')]), {
      names: 'A,B',
      v: '1',
      flag: '',
      pk: 'a=b',
    });
    assert.deepEqual(parseTxt(undefined), {});
    assert.deepEqual(parseTxt(b('one=1')), { one: '1' });
  });

  it('matches names case-insensitively and only this protocol major unless all', () => {
    const s = { name: 'CALCULATOR on box', names: ['CALCULATOR', 'CALC'], txt: { v: V } };
    assert.equal(matchService(s, 'calc'), true);
    assert.equal(matchService(s, 'Calculator'), true);
    assert.equal(matchService(s, 'calculator on BOX'), true);
    assert.equal(matchService(s, 'other'), false);
    assert.equal(matchService(s), true);
    const old = { ...s, txt: { v: '0' } };
    assert.equal(matchService(old, 'calc'), false);
    assert.equal(matchService(old, 'calc', true), true);
  });

  it('instance names get a suffix that always fits in one DNS label', () => {
    assert.equal(instanceCandidate('CALC on box', 1), 'CALC on box');
    assert.equal(instanceCandidate('CALC on box', 2), 'CALC on box (2)');
    assert.equal(instanceCandidate('a.b', 1), 'a-b');
    const long = instanceCandidate('x'.repeat(80), 12);
    assert.equal(Buffer.byteLength(long), 63);
    assert.match(long, / \(12\)$/);
  });

  it("parses registry addresses: 'host:port', '[v6]:port', a default port", () => {
    assert.deepEqual(registryAddress('10.0.0.1:4000'), { host: '10.0.0.1', port: 4000 });
    assert.deepEqual(registryAddress('[::1]:4000'), { host: '::1', port: 4000 });
    assert.deepEqual(registryAddress('reg.lan'), { host: 'reg.lan', port: 18811 });
    assert.throws(() => registryAddress('host:99999'), TypeError);
    assert.throws(() => registryAddress(''), TypeError);
  });
});

describe('announce and discover over a fake multicast link', () => {
  it('finds an announced service with its names, TXT, host, port, and the address it answered from first', async () => {
    const lan = new FakeLan();
    const a = await announced(lan, '10.0.0.1', CalculatorService, { port: 18812 });
    assert.match(a.name, /^CALCULATOR on /);
    assert.match(a.host, /\.local$/);
    const found = await find(lan, 'calc');
    assert.equal(found.length, 1);
    const s = found[0]!;
    assert.equal(s.name, a.name);
    assert.deepEqual(s.names, ['CALCULATOR', 'CALC']);
    assert.equal(s.host, a.host);
    assert.equal(s.port, 18812);
    assert.equal(s.addresses[0], '10.0.0.1');
    assert.deepEqual(s.txt, { names: 'CALCULATOR,CALC', v: V, auth: 'none' });
    // The goodbye on close: nothing is found afterwards, and the goodbye packet had TTL 0.
    await a.close();
    assert.deepEqual(await find(lan, 'calc'), []);
    assert.ok(lan.log.some((l) => l.packet.answers?.some((r) => r.type === 'SRV' && r.ttl === 0)));
  });

  it('returns [] when nothing answers, and filters by name and protocol version', async () => {
    const lan = new FakeLan();
    assert.deepEqual(await find(lan), []);
    await announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000 });
    assert.deepEqual(await find(lan, 'calc'), []);
    assert.equal((await find(lan, 'echo')).length, 1);
    // A service of another protocol major (as another build would announce it): left out unless all.
    const before = lan.questions().length;
    const strict = discover('old', { timeout: 400, socket: lan.socket('10.0.0.98') });
    const loose = discover('old', { timeout: 400, all: true, socket: lan.socket('10.0.0.97') });
    await until(() => lan.questions().length >= before + 2);
    lan.inject(srvAnswer('OLD on h', 'h.local', 1001, ['names=OLD', 'v=999'], 120), '10.0.0.5');
    assert.deepEqual(await strict, []);
    assert.deepEqual(
      (await loose).map((s) => [s.name, s.txt.v]),
      [['OLD on h', '999']],
    );
  });

  it('errors thrown without an error callback: a socket error reaches the announcement, never the process', async () => {
    // bonjour-service on its own: multicast-dns's `error` event has no listener, so the error is thrown.
    const lan = new FakeLan();
    const socket = lan.socket('10.0.0.7');
    const raw = new Bonjour({ socket } as object);
    await once(socket, 'listening');
    const eacces = Object.assign(new Error('bind EACCES'), { code: 'EACCES' });
    assert.throws(() => socket.emit('error', eacces), /EACCES/);
    raw.destroy();

    // Through announce: the same error, and a failed answer to a query, become `error` events.
    const a = await announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000 });
    const errors: Error[] = [];
    a.on('error', (e) => errors.push(e));
    const own = [...lan.sockets].find((s) => s.fakeAddress === '10.0.0.1')!;
    own.emit('error', eacces);
    lan.sendError = unreachable();
    lan.inject({ type: 'query', questions: [{ name: '_netref._tcp.local', type: 'PTR' }], flags: 0 }, '10.0.0.9');
    await until(() => errors.length >= 2);
    assert.ok(errors.every((e) => e instanceof DiscoveryError));
    assert.match(errors[0]!.message, /EACCES/);
    assert.match(errors[1]!.message, /ENETUNREACH.*route for multicast/);
    assert.equal(a.lastError, errors.at(-1));
    lan.sendError = undefined;
  });

  it('sends failing where there is no multicast route: discover rejects, announce reports an error event', async () => {
    const lan = new FakeLan();
    lan.sendError = unreachable();
    await assert.rejects(find(lan, 'calc'), (e: Error) => {
      assert.ok(e instanceof DiscoveryError);
      assert.match(e.message, /cannot look for 'calc'.*ENETUNREACH.*ip route add 224\.0\.0\.0\/4/s);
      return true;
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    cleanups.push(() => process.off('warning', onWarning));
    // Nobody listens for `error`: the first failure becomes one process warning, and lastError keeps it.
    const a = await announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000 });
    await until(() => a.lastError !== undefined && warnings.length > 0);
    assert.match(a.lastError!.message, /ENETUNREACH/);
    assert.ok(warnings[0] instanceof DiscoveryError);
  });

  it('name conflicts: a taken instance name gets " (2)", and both services are found', async () => {
    const lan = new FakeLan();
    const first = await announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000 }, { name: 'echo' });
    const second = await announced(lan, '10.0.0.2', { names: ['ECHO'], port: 1001 }, { name: 'echo' });
    assert.equal(first.name, 'echo');
    assert.equal(second.name, 'echo (2)');
    const found = await find(lan, 'ECHO');
    const rows = found.map((s) => [s.name, s.port, s.addresses[0]]);
    assert.deepEqual(
      rows.sort((p, q) => String(p[0]).localeCompare(String(q[0]))),
      [
        ['echo', 1000, '10.0.0.1'],
        ['echo (2)', 1001, '10.0.0.2'],
      ],
    );
  });

  it('name conflicts between two announcements probing at once: exactly one renames', async () => {
    const lan = new FakeLan();
    const [x, y] = await Promise.all([
      announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000 }, { name: 'same' }),
      announced(lan, '10.0.0.2', { names: ['ECHO'], port: 1001 }, { name: 'same' }),
    ]);
    await until(() => x.name !== y.name);
    assert.deepEqual([x.name, y.name].sort(), ['same', 'same (2)']);
    const found = await find(lan, 'echo');
    assert.deepEqual(found.map((s) => s.name).sort(), ['same', 'same (2)']);
  });

  it('stale entries: a service that says goodbye during the browse, or whose TTL runs out, is not returned', async () => {
    const lan = new FakeLan();
    const browsing = discover('gone', { timeout: 2500, socket: lan.socket('10.0.0.99') });
    await until(() => lan.sockets.size === 1 && lan.questions().length > 0);
    lan.inject(srvAnswer('GONE on a', 'a.local', 2000, ['names=GONE', `v=${V}`], 120), '10.0.0.3');
    lan.inject(srvAnswer('GONE on b', 'b.local', 2001, ['names=GONE', `v=${V}`], 1), '10.0.0.4');
    lan.inject(srvAnswer('GONE on c', 'c.local', 2002, ['names=GONE', `v=${V}`], 120), '10.0.0.5');
    lan.inject(srvAnswer('GONE on a', 'a.local', 2000, ['names=GONE', `v=${V}`], 0), '10.0.0.3'); // goodbye
    const found = await browsing;
    assert.deepEqual(
      found.map((s) => s.name),
      ['GONE on c'],
      'a said goodbye and b expired (TTL 1 s) before the browse ended',
    );
  });

  it('records missing from the answer packet: SRV, TXT and A are asked for by name', async () => {
    const lan = new FakeLan();
    await announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000 }, { name: 'split' });
    // Responses carry only their PTR records: what a responder that splits its answer (or loses packets) sends.
    lan.filter = (p: Packet) => {
      if (p.type !== 'response' || !p.answers.some((r) => r.type === 'PTR')) return p;
      return { ...p, answers: p.answers.filter((r) => r.type === 'PTR'), additionals: [] };
    };
    const found = await find(lan, 'echo', 1200);
    assert.equal(found.length, 1, `found ${JSON.stringify(found)}; questions: ${lan.questions().join(', ')}`);
    assert.equal(found[0]!.port, 1000);
    assert.equal(found[0]!.addresses[0], '10.0.0.1');
    const asked = lan.questions();
    assert.ok(asked.includes('SRV split._netref._tcp.local'), asked.join(', '));
    assert.ok(asked.includes('TXT split._netref._tcp.local'), asked.join(', '));
  });

  it('addresses empty: the host A record is asked for, and the answer source address stands in', async () => {
    const lan = new FakeLan();
    const a = await announced(lan, '10.0.0.1', { names: ['ECHO'], port: 1000, host: 'nowhere' });
    lan.filter = (p: Packet) =>
      p.type === 'response'
        ? {
            ...p,
            answers: p.answers.filter((r) => r.type !== 'A' && r.type !== 'AAAA'),
            additionals: p.additionals.filter((r) => r.type !== 'A' && r.type !== 'AAAA'),
          }
        : p;
    const found = await find(lan, 'echo', 800);
    assert.equal(found.length, 1);
    assert.equal(a.host, 'nowhere.local');
    assert.deepEqual(found[0]!.addresses, ['10.0.0.1']);
    assert.ok(lan.questions().includes('A nowhere.local'), lan.questions().join(', '));
  });
});

describe('RegistryServer', () => {
  async function registry(options: ConstructorParameters<typeof RegistryServer>[0] = {}) {
    const r = new RegistryServer({ host: '127.0.0.1', port: 0, ...options });
    await r.start();
    cleanups.push(() => r.close());
    return r;
  }

  it('servers announce their service through `registry`; the module-based ones learn its names where it loads', async () => {
    const r = await registry();
    const keys = generateKeys();
    const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
    const servers = [
      new Server(CalculatorService, {
        port: 0,
        registry: r.address!,
        authenticator: shsServer({ networkKey: randomNetworkKey(), keys }),
      }),
      // Workers cannot load TypeScript on their own on Node 20: they import this preload first.
      new ThreadedServer(fixture('where-loaded.ts'), {
        port: 0,
        workers: 1,
        registry: r.address!,
        preload: [new URL('./support/tsxWorker.mjs', import.meta.url)],
      }),
      new ForkingServer(
        { module: fixture('where-loaded.ts'), export: 'ThereService' },
        {
          port: 0,
          registry: r.address!,
        },
      ),
    ];
    for (const server of servers) {
      await server.start();
      cleanups.push(() => server.close());
    }
    const [calc] = await discover('calc', { registry: r.address! });
    assert.equal(calc?.port, servers[0]!.port);
    assert.equal(calc.txt.auth, 'shs');
    assert.equal(calc.txt.pk, Buffer.from(keys.publicKey).toString('base64'));
    const [threaded] = await discover('where', { registry: r.address! });
    assert.equal(threaded?.port, servers[1]!.port);
    assert.deepEqual(threaded.names, ['WHERE']);
    const [forking] = await discover('there', { registry: r.address! });
    assert.equal(forking?.port, servers[2]!.port);
    assert.deepEqual(forking.names, ['THERE']);
    assert.equal(forking.txt.auth, 'none');
    // Read in the workers and the probe child: the acceptor never ran the module's code.
    assert.equal((globalThis as { netrefWhereLoaded?: boolean }).netrefWhereLoaded, undefined);
  });

  it('register, list, query, unregister through announce({ registry }) and discover({ registry })', async () => {
    const r = await registry();
    assert.match(r.address!, /^127\.0\.0\.1:\d+$/);
    const a = await announce(CalculatorService, {
      port: 4000,
      mdns: false,
      registry: r.address!,
      withdrawOnExit: false,
    });
    cleanups.push(() => a.close());
    const found = await discover('calc', { registry: r.address! });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.port, 4000);
    assert.deepEqual(found[0]!.names, ['CALCULATOR', 'CALC']);
    assert.equal(found[0]!.addresses[0], '127.0.0.1');
    assert.equal(r.service.list().length, 1);
    assert.deepEqual(await discover('other', { registry: r.address! }), []);
    await a.close();
    assert.deepEqual(await discover('calc', { registry: r.address! }), []);
  });

  it('prunes a server that stopped re-registering, and keeps one that renews', async () => {
    const r = await registry({ pruneAfter: 400 });
    const renewing = await announce(
      { names: ['KEPT'], port: 4001 },
      {
        mdns: false,
        registry: r.address!,
        withdrawOnExit: false,
      },
    );
    cleanups.push(() => renewing.close());
    const silent = await announce(
      { names: ['DROPPED'], port: 4002 },
      {
        mdns: false,
        registry: r.address!,
        refresh: 60_000,
        withdrawOnExit: false,
      },
    );
    cleanups.push(() => silent.close());
    assert.equal(r.service.list().length, 2);
    await until(() => r.service.list().length === 1, 3000);
    assert.deepEqual(
      r.service.list().map((s) => s.names[0]),
      ['KEPT'],
    );
    await new Promise((resolve) => setTimeout(resolve, 600)); // past pruneAfter again: the renewals keep it
    assert.deepEqual(
      r.service.list().map((s) => s.names[0]),
      ['KEPT'],
    );
  });

  it('refuses malformed registrations with a TypeError, and reports an unreachable registry', async () => {
    const r = await registry();
    const { openRegistryConnection } = await import('../src/registry/openRegistryConnection.js');
    const conn = await openRegistryConnection(r.address!, 2000);
    cleanups.push(() => conn.close());
    const register = (entry: object) => async () => await conn.root.register(entry);
    await assert.rejects(register({ name: 'x', host: 'h', port: 0, txt: {} }), /TypeError.*port/);
    await assert.rejects(register({ name: 'x', host: 'h', port: 1, txt: { a: 1 } }), /txt\.a/);
    await assert.rejects(register({ name: 'x', host: 'h', port: 1, txt: {}, addresses: ['nope'] }), /not an IP/);
    assert.equal(await conn.root.unregister('nobody'), false);
    const port = r.port!;
    await r.close();
    await assert.rejects(discover('x', { registry: `127.0.0.1:${port}`, timeout: 1000 }), (e: Error) => {
      assert.ok(e instanceof DiscoveryError);
      assert.match(e.message, /cannot reach the registry at 127\.0\.0\.1:\d+: ECONNREFUSED/);
      return true;
    });
  });

  it('connectByService skips dead answers, connects to a live one, and names what failed otherwise', async () => {
    const r = await registry();
    const server = new Server(CalculatorService, { host: '127.0.0.1', port: 0 });
    await server.start();
    cleanups.push(() => server.close());
    // A dead registration (its server is gone) ahead of the live one.
    const dead = await announce(
      { names: ['CALCULATOR'], port: 1 },
      {
        name: 'dead',
        mdns: false,
        registry: r.address!,
        withdrawOnExit: false,
      },
    );
    cleanups.push(() => dead.close());
    const live = await announce(CalculatorService, {
      port: server.port!,
      mdns: false,
      registry: r.address!,
      withdrawOnExit: false,
    });
    cleanups.push(() => live.close());
    const conn = await connectByService('calc', { registry: r.address! });
    cleanups.push(() => conn.close());
    assert.equal(await conn.root.add(2, 3), 5);

    await assert.rejects(connectByService('nothing', { registry: r.address!, timeout: 500 }), (e: Error) => {
      assert.ok(e instanceof DiscoveryError);
      assert.match(e.message, /no service named 'nothing' answered on the registry at 127\.0\.0\.1:\d+/);
      return true;
    });
    await live.close();
    await assert.rejects(connectByService('calculator', { registry: r.address! }), (e: Error) => {
      assert.ok(e instanceof DiscoveryError);
      assert.match(e.message, /service 'calculator' was found .* no answer could be connected to/s);
      assert.match(e.message, /'dead' at 127\.0\.0\.1:1: .*ECONNREFUSED/);
      return true;
    });
  });
});

describe('netref discover and autoRegister helpers', () => {
  it('netref discover prints a table of what answered, and exits 1 when nothing did', async () => {
    const r = new RegistryServer({ host: '127.0.0.1', port: 0 });
    await r.start();
    cleanups.push(() => r.close());
    const a = await announce(CalculatorService, {
      port: 4100,
      mdns: false,
      registry: r.address!,
      withdrawOnExit: false,
    });
    cleanups.push(() => a.close());
    const out: string[] = [];
    const err: string[] = [];
    const { log, error } = console;
    console.log = (line: string) => out.push(line);
    console.error = (line: string) => err.push(line);
    let codes: number[];
    try {
      codes = [
        await discoverCommand(['CALC', '--registry', r.address!]),
        await discoverCommand(['nothing', '--registry', r.address!, '--timeout', '500']),
      ];
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.deepEqual(codes, [0, 1]);
    const [head, row, ...rest] = out.join('\n').split('\n');
    assert.match(head!, /^NAME +HOST +PORT +ADDRESSES +AUTH$/);
    assert.match(row!, new RegExp(`^${a.name} \\[CALCULATOR,CALC\\] +\\S+\\.local +4100 +127\\.0\\.0\\.1\\S* +none$`));
    assert.deepEqual(rest, []);
    assert.deepEqual(err, [`no service named 'nothing' answered within 500 ms (registry ${r.address})`]);
    await assert.rejects(discoverCommand(['--timeout', 'soon']), UsageError);
    await assert.rejects(discoverCommand(['a', 'b']), UsageError);
  });

  it("a server's authenticator decides its auth and pk entries", () => {
    assert.deepEqual(announcedAuth(undefined), { auth: 'none' });
    assert.deepEqual(
      announcedAuth(async () => ({})),
      { auth: 'custom' },
    );
    const pk = new Uint8Array(32);
    assert.deepEqual(announcedAuth(Object.assign(async () => ({}), { kind: 'shs', publicKey: pk })), {
      auth: 'shs',
      publicKey: pk,
    });
    assert.deepEqual(announcedAuth(Object.assign(async () => ({}), { kind: 'tls' })), { auth: 'tls' });
  });
});

/** An unsolicited answer for one instance: PTR, SRV, TXT and the host's A record, all with `ttl`. */
function srvAnswer(instance: string, host: string, port: number, txt: string[], ttl: number): Partial<Packet> {
  const fqdn = `${instance}._netref._tcp.local`;
  return {
    answers: [
      { name: '_netref._tcp.local', type: 'PTR', ttl, data: fqdn },
      { name: fqdn, type: 'SRV', ttl, data: { port, target: host, priority: 0, weight: 0 } },
      { name: fqdn, type: 'TXT', ttl, data: txt.map((t) => Buffer.from(t)) },
    ],
    additionals: [{ name: host, type: 'A', ttl, data: '10.0.0.200' }],
  };
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
