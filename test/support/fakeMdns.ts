// A fake multicast link for mDNS tests that must not touch the network: each FakeSocket stands in for the dgram
// socket multicast-dns would open (passed as the `socket` option), and every datagram one sends is delivered to all
// of them (the sender too, as multicast loopback does), with the sender's fake address as the source.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** dns-packet comes with multicast-dns (bonjour-service's dependency); loaded this way it needs no type package. */
export const dnsPacket = createRequire(import.meta.url)('dns-packet') as {
  encode(packet: object): Buffer;
  decode(buf: Buffer): Packet;
};

export interface Record {
  name: string;
  type: string;
  ttl?: number;
  data?: any;
  flush?: boolean;
}

export interface Packet {
  type: 'query' | 'response';
  questions: { name: string; type: string }[];
  answers: Record[];
  additionals: Record[];
  authorities?: Record[];
  flags?: number;
  id?: number;
}

export class FakeLan {
  readonly sockets = new Set<FakeSocket>();
  /** Every packet sent on the link, decoded, with the sender's address. */
  readonly log: { from: string; packet: Packet }[] = [];
  /** When set, every send fails with this error (as on a host with no multicast route). */
  sendError: NodeJS.ErrnoException | undefined;
  /** Rewrites (or drops, returning null) what each packet looks like on the wire. */
  filter: ((packet: Packet, from: string) => Packet | null) | undefined;

  socket(address: string): FakeSocket {
    return new FakeSocket(this, address);
  }

  /** Delivers raw records as a response from `from`, as another responder on the link would send them. */
  inject(packet: Partial<Packet>, from: string): void {
    const full = { type: 'response', questions: [], answers: [], additionals: [], flags: 0x8400, ...packet };
    this.deliver(dnsPacket.encode(full), from);
  }

  deliver(buf: Buffer, from: string): void {
    let packet = dnsPacket.decode(buf);
    this.log.push({ from, packet });
    if (this.filter) {
      const kept = this.filter(packet, from);
      if (!kept) return;
      packet = kept;
      buf = dnsPacket.encode(packet);
    }
    for (const s of this.sockets) {
      setImmediate(() => s.emit('message', buf, { address: from, family: 'IPv4', port: 5353, size: buf.length }));
    }
  }

  /** Questions sent on the link so far, as `TYPE name`. */
  questions(): string[] {
    return this.log.flatMap((l) =>
      l.packet.type === 'query' ? l.packet.questions.map((q) => `${q.type} ${q.name}`) : [],
    );
  }
}

/** Enough of a dgram.Socket for multicast-dns. */
export class FakeSocket extends EventEmitter {
  constructor(
    readonly lan: FakeLan,
    readonly fakeAddress: string,
  ) {
    super();
  }

  bind(_port: number, _address: string | undefined, cb?: () => void): void {
    this.lan.sockets.add(this);
    setImmediate(() => {
      this.emit('listening');
      cb?.();
    });
  }

  send(buf: Buffer, offset: number, length: number, _port: number, _address: string, cb?: (e?: Error) => void): void {
    const error = this.lan.sendError;
    if (error) {
      setImmediate(() => cb?.(error));
      return;
    }
    this.lan.deliver(Buffer.from(buf.subarray(offset, offset + length)), this.fakeAddress);
    setImmediate(() => cb?.());
  }

  address() {
    return { address: '0.0.0.0', family: 'IPv4', port: 5353 };
  }

  addMembership(): void {}
  dropMembership(): void {}
  setMulticastTTL(): void {}
  setMulticastLoopback(): void {}
  setMulticastInterface(): void {}

  close(cb?: () => void): void {
    this.lan.sockets.delete(this);
    setImmediate(() => {
      this.emit('close');
      cb?.();
    });
  }
}

/** A fake ENETUNREACH, as sendto gives on a host with no route for 224.0.0.251. */
export function unreachable(): NodeJS.ErrnoException {
  return Object.assign(new Error('send ENETUNREACH 224.0.0.251:5353'), {
    code: 'ENETUNREACH',
    errno: -101,
    syscall: 'send',
  });
}
