// The service, server and raw-peer fixture that the hostile-peer tests attack.
import assert from 'node:assert/strict';
import { type TestContext } from 'node:test';
import {
  connect,
  Connection,
  currentCall,
  ProtocolError,
  Server,
  Service,
  type ProtocolConfig,
} from '../../src/index.js';
import { encode, MessageKind as K, Tag, Tagged } from '../../src/protocol/index.js';
import { HELLO, RawPeer, until, within, type Reply } from './rawPeer.js';
// ---- the service under attack ----------------------------------------------------------------------------------

/** What the service saw. Each fixture has its own. */
export class Probe {
  /** Names of methods that must never run remotely, each time one did. */
  readonly ran: string[] = [];
  /** Arguments `inspect` received. */
  readonly seen: unknown[] = [];
  /** Signals of `hang` calls (they abort when the connection closes). */
  readonly signals: AbortSignal[] = [];
  /** Results of `make`, weakly held. */
  readonly made: WeakRef<object>[] = [];
  hangCalls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  /** Resolves when the test ends: until then every `hang` call stays pending. */
  readonly gate: Promise<void>;
  open!: () => void;
  constructor() {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
}

export function makeService(probe: Probe) {
  /** Records `name` when called from a netref request (local calls, e.g. by a debugger printing it, do not count). */
  const remote = (name: string): void => {
    try {
      currentCall();
    } catch {
      return;
    }
    probe.ran.push(name);
  };
  const exported = function exported(x: unknown) {
    return x;
  };

  class Target extends Service {
    add(a: number, b: number) {
      return a + b;
    }
    echo(x: unknown) {
      return x;
    }
    /** Never settles until the test ends; counts how many run at once. */
    async hang() {
      probe.hangCalls++;
      probe.concurrent++;
      probe.maxConcurrent = Math.max(probe.maxConcurrent, probe.concurrent);
      probe.signals.push(currentCall().signal);
      try {
        await probe.gate;
      } finally {
        probe.concurrent--;
      }
      return 'released';
    }
    inspect(...args: unknown[]) {
      probe.seen.push(...args);
      return args.map((a) =>
        a !== null && typeof a === 'object' ? Object.getPrototypeOf(a) === Object.prototype : null,
      );
    }
    /** Records its argument and sends it back. */
    mirror(x: unknown) {
      probe.seen.push(x);
      return x;
    }
    /** A fresh object each call (its liveness is tracked, to see what the server keeps). */
    make() {
      const made = { n: probe.made.length };
      probe.made.push(new WeakRef(made));
      return made;
    }
    /** A function export, as a target for names on functions. */
    fn() {
      return exported;
    }
    _private() {
      remote('_private');
      return 'secret';
    }
    override onConnect(conn: Connection) {
      if (!(conn instanceof Connection)) probe.ran.push('onConnect');
    }
    override onDisconnect(conn: Connection) {
      if (!(conn instanceof Connection)) probe.ran.push('onDisconnect');
    }
    call() {
      remote('call');
    }
    apply() {
      remote('apply');
    }
    bind() {
      remote('bind');
    }
    override toString() {
      remote('toString');
      return 'Target';
    }
    override valueOf() {
      remote('valueOf');
      return 0;
    }
    override hasOwnProperty(_key?: PropertyKey) {
      remote('hasOwnProperty');
      return true;
    }
  }
  return new Target();
}

// ---- fixture ----------------------------------------------------------------------------------------------------

export interface Fixture {
  server: Server;
  port: number;
  probe: Probe;
  service: ReturnType<typeof makeService>;
  /** A normal client connected before any attack: it must be unaffected by them. */
  bystander: Connection;
  /** Opens a raw peer (sends HELLO first unless `hello` is false); closed when the test ends. */
  peer(hello?: unknown | false): Promise<RawPeer>;
  /** Why the server closed `peer`'s connection (waits for the server's `disconnect`). */
  reasonFor(peer: RawPeer): Promise<Error | undefined>;
}

export async function fixture(t: TestContext, protocolConfig: Partial<ProtocolConfig> = {}): Promise<Fixture> {
  const probe = new Probe();
  const service = makeService(probe);
  const server = new Server(service, { host: '127.0.0.1', port: 0, protocolConfig });
  const disconnects: { port: number | undefined; reason: Error | undefined }[] = [];
  server.on('disconnect', (conn: Connection, reason: Error | undefined) => {
    disconnects.push({ port: conn.peer.port, reason });
  });
  server.on('error', () => {}); // handshake failures are reported here; the disconnect reason is what we check
  await server.start();
  const port = server.port!;
  const peers: RawPeer[] = [];
  const opened: Connection[] = [];
  t.after(async () => {
    probe.open();
    for (const p of peers) p.destroy();
    for (const c of opened) await c.close();
    await within(server.close(), 5000, 'the server to close');
  });
  const bystander = await within(connect('127.0.0.1', port), 3000, 'the bystander to connect');
  opened.push(bystander);
  assert.equal(await bystander.root.add(1, 2), 3);
  return {
    server,
    port,
    probe,
    service,
    bystander,
    async peer(hello: unknown | false = HELLO) {
      const p = await RawPeer.open(port, hello);
      peers.push(p);
      return p;
    },
    async reasonFor(peer) {
      const mine = () => disconnects.find((d) => d.port === peer.localPort);
      await until(() => mine() !== undefined, 3000, `the server to drop the connection from port ${peer.localPort}`);
      return mine()!.reason;
    },
  };
}

/** The server, the connection opened before the attack and a brand-new client all still work. */
export async function assertServerHealthy(fx: Fixture): Promise<void> {
  assert.equal(fx.bystander.isClosed, false, 'the connection that was open before the attack is still open');
  assert.equal(await within(Promise.resolve(fx.bystander.root.add(1, 2)), 3000, 'a call of the bystander'), 3);
  const fresh = await within(connect('127.0.0.1', fx.port), 3000, 'a new client to connect');
  try {
    assert.equal(await within(Promise.resolve(fresh.root.add(2, 3)), 3000, 'a call of a new client'), 5);
  } finally {
    await fresh.close();
  }
  assert.deepEqual(fx.probe.ran, [], 'no method that must stay unreachable ran');
}

/** The server closed `peer` (within 3 s) with an error of class `cls` whose message matches `match`. */
export async function assertRefused(
  fx: Fixture,
  peer: RawPeer,
  match: RegExp,
  cls: Function = ProtocolError,
): Promise<Error> {
  await peer.waitClosed(3000);
  const reason = await fx.reasonFor(peer);
  assert.ok(reason instanceof cls, `closed with ${cls.name}, got ${reason?.name}: ${reason?.message}`);
  assert.match(reason.message, match);
  return reason;
}

/** Opens a peer, lets `attack` write on it, and expects the server to close it with a ProtocolError. */
export async function expectClosed(
  fx: Fixture,
  what: string,
  attack: (p: RawPeer) => void,
  match: RegExp,
  options: { hello?: unknown | false; cls?: Function } = {},
): Promise<void> {
  const peer = await fx.peer(options.hello ?? HELLO);
  attack(peer);
  try {
    await assertRefused(fx, peer, match, options.cls ?? ProtocolError);
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** A request frame whose payload is given as raw msgpack bytes. */
export function rawRequest(
  kind: number,
  seq: number,
  target: number,
  path: string[],
  payload: Uint8Array,
  flags = 0,
): Buffer {
  return Buffer.concat([
    Buffer.from([0x96]),
    encode(kind),
    encode(flags),
    encode(seq),
    encode(target),
    encode(path),
    payload,
  ]);
}

/** `open` repeated `n` times, then `leaf`: nesting `n` levels deep. */
export function nested(n: number, open: number[], leaf: number[] = [0xc0]): Buffer {
  const out = Buffer.alloc(n * open.length + leaf.length);
  for (let i = 0; i < n; i++) out.set(open, i * open.length);
  out.set(leaf, n * open.length);
  return out;
}

/** A msgpack map with string keys, its values given as raw bytes (so '__proto__' goes on the wire as it is). */
export function rawMap(entries: [string, Uint8Array][]): Buffer {
  const parts: Uint8Array[] = [Buffer.from([0x80 | entries.length])];
  for (const [k, v] of entries) parts.push(encode(k), v);
  return Buffer.concat(parts);
}

export function assertAttributeError(reply: Reply, what: string): void {
  assert.equal(reply[0], K.ERROR, `${what}: expected an ERROR reply, got ${JSON.stringify(reply)}`);
  const v = reply[2];
  assert.ok(v instanceof Tagged && v.tag === Tag.ERROR, `${what}: the error value is an ext 0x4E Tagged with tag 5`);
  const err = v.value as { name?: unknown; message?: unknown };
  assert.equal(err.name, 'AttributeError', `${what}: got ${String(err.name)}: ${String(err.message)}`);
}

export function errorName(reply: Reply): unknown {
  const v = reply[2];
  return v instanceof Tagged && v.tag === Tag.ERROR ? (v.value as { name?: unknown }).name : undefined;
}

/** Calls `fn` on `peer` and returns the id of the function export in the reply. */
export async function exportFn(peer: RawPeer, seq: number): Promise<number> {
  peer.request(K.CALL, seq, 0, ['fn'], []);
  const reply = await peer.reply(seq);
  assert.equal(reply[0], K.RESULT);
  const v = reply[2];
  assert.ok(v instanceof Tagged && v.tag === Tag.REMOTE, 'a function comes back as a reference');
  const [id, callable] = v.value as [number, boolean];
  assert.equal(callable, true);
  assert.ok(Number.isInteger(id) && id > 0);
  return id;
}
