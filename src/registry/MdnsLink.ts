import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type Bonjour from 'bonjour-service';
import { builtins } from '../channel/index.js';
import { DiscoveryError } from '../core/index.js';

/** A resource record as multicast-dns decodes it. */
export interface MdnsRecord {
  name: string;
  type: string;
  ttl?: number;
  flush?: boolean;
  data?: any;
}

/** A decoded mDNS packet. */
export interface MdnsPacket {
  type?: 'query' | 'response';
  questions?: { name: string; type: string }[];
  answers: MdnsRecord[];
  additionals: MdnsRecord[];
}

/** Where a packet came from. */
export interface MdnsSource {
  address: string;
  port: number;
}

/** The part of a multicast-dns instance netref uses. */
export interface MulticastDns extends EventEmitter {
  send(
    value: object,
    rinfo?: object | null | ((error?: Error | null) => void),
    cb?: (error?: Error | null) => void,
  ): void;
  query(q: object, cb?: (error?: Error | null) => void): void;
  respond(res: object, cb?: (error?: Error | null) => void): void;
  destroy(cb?: () => void): void;
}

/** Options of the mDNS socket. */
export interface MdnsOptions {
  /**
   * The IPv4 address of the interface to use (multicast-dns's `interface`): the socket binds and joins the group
   * there and sends from there. Default: every interface joins, and sends follow the routing table (a host with no
   * route for 224.0.0.251 gets ENETUNREACH, every time).
   */
  interface?: string;
  /** For tests: a dgram-like socket for multicast-dns to use instead of opening one. */
  socket?: unknown;
}

const ROUTE_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EPERM', 'EACCES', 'ENODEV']);

/** An mDNS failure as netref reports it: what failed, the system's code, and what to do about it. */
export function mdnsError(what: string, error: unknown): DiscoveryError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const hint = ROUTE_CODES.has(code ?? '')
    ? ' (no route for multicast, or multicast is blocked here: add a route with `ip route add 224.0.0.0/4 dev IF`, ' +
      "pick an interface, or use a RegistryServer with registry: 'host:port')"
    : '';
  const e = new DiscoveryError(`${what}: ${(error as Error)?.message ?? String(error)}${hint}`, { cause: error });
  (e as NodeJS.ErrnoException).code = code;
  return e;
}

/** The socket multicast-dns opens by default (IPv4, shared port). */
function openSocket(): Socket {
  return builtins.dgram().createSocket({ type: 'udp4', reuseAddr: true });
}

/**
 * One mDNS socket (bonjour-service over multicast-dns), made safe to hold: bonjour-service throws from socket
 * callbacks when no error callback is given and lets an unlistened `error` event of multicast-dns crash the process,
 * and its announcements ignore send errors. Here every such failure becomes a `problem` event (a DiscoveryError that
 * says what to do), sends can be awaited, and nothing of the socket can crash the program.
 *
 * Events: `problem` (error) — a send that failed (no multicast route), a socket error, a group that could not be
 * joined; `response` (packet, source) — every mDNS response heard.
 */
export class MdnsLink extends EventEmitter {
  readonly bonjour: Bonjour;
  readonly mdns: MulticastDns;
  #closed: Promise<void> | undefined;
  /** Errors the send wrapper reported already: bonjour-service hands the same ones to its error callback. */
  #reported = new WeakSet<object>();

  private constructor(BonjourService: typeof Bonjour, options: MdnsOptions) {
    super();
    const onCallbackError = (error: unknown) => {
      if (!(error && typeof error === 'object' && this.#reported.has(error))) {
        this.#problem(mdnsError('answering an mDNS query failed', error));
      }
    };
    // Without an interface, netref opens the socket itself (as multicast-dns would) so that it can keep sends on the
    // routing table: see #followRoutes.
    const socket = options.socket ?? (options.interface === undefined ? openSocket() : undefined);
    const mdnsOptions = {
      ...(options.interface !== undefined ? { interface: options.interface } : {}),
      ...(socket !== undefined ? { socket } : {}),
    };
    // bonjour-service types its options as a service config; they go to multicast-dns as they are.
    this.bonjour = new BonjourService(mdnsOptions as object, onCallbackError);
    this.mdns = (this.bonjour as unknown as { server: { mdns: MulticastDns } }).server.mdns;
    this.#wrapSend();
    if (options.interface === undefined && socket !== undefined) this.#followRoutes(socket as Partial<Socket>);
    this.mdns.on('warning', (error: NodeJS.ErrnoException) => {
      // Garbled packets from other hosts are noise on a real LAN; a group that cannot be joined is worth knowing.
      if (error?.syscall) this.#problem(mdnsError(`mDNS ${error.syscall} failed`, error));
    });
    this.mdns.on('response', (packet: MdnsPacket, source: MdnsSource) => this.emit('response', packet, source));
  }

  /**
   * Opens the socket (UDP 5353, shared with other responders on this host). Rejects with DiscoveryError when it
   * cannot be bound (EACCES, EADDRINUSE without address reuse, no such interface); nothing is left open then.
   */
  static async open(options: MdnsOptions = {}): Promise<MdnsLink> {
    // Loaded here, on first use, not when netref is imported: it takes ~18 ms to load, which every process and worker
    // thread importing netref paid, and only discovery and announcing need it.
    const { default: BonjourService } = await import('bonjour-service');
    const link = new MdnsLink(BonjourService, options);
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: unknown) => reject(mdnsError('cannot open the mDNS socket (UDP 5353)', error));
        link.mdns.once('error', onError);
        link.mdns.once('ready', () => {
          link.mdns.off('error', onError);
          link.mdns.on('error', (error: unknown) => link.#problem(mdnsError('mDNS socket error', error)));
          resolve();
        });
      });
    } catch (error) {
      await link.close();
      throw error;
    }
    return link;
  }

  /**
   * Without an `interface`, multicast-dns points the socket's sends (IP_MULTICAST_IF) at 127.0.0.1 when no other
   * interface is up and running at the moment the socket binds, and at "any" (the routing table) otherwise, re-deciding
   * every 5 s as interfaces appear. An interface whose link is still coming up (a fresh veth, Wi-Fi associating) is
   * not listed yet, so the same host would send over loopback — nobody else hears it, and no error says so — or
   * follow its routes, depending on timing. Here sends always follow the routing table (multicast-dns emits
   * `networkInterface` right after each time it sets the interface, the first before `ready`), so a host without a
   * route for multicast fails the same way every time, with an error that says what to do.
   */
  #followRoutes(socket: Partial<Socket>): void {
    this.mdns.on('networkInterface', () => {
      try {
        socket.setMulticastInterface?.('0.0.0.0');
      } catch (error) {
        this.#problem(mdnsError('mDNS setMulticastInterface failed', error));
      }
    });
  }

  #problem(error: DiscoveryError): void {
    if (this.listenerCount('problem') > 0) this.emit('problem', error);
  }

  /** Every send (bonjour-service's announcements and answers included) reports its failure instead of dropping it. */
  #wrapSend(): void {
    const mdns = this.mdns;
    const send = mdns.send.bind(mdns);
    mdns.send = (value, rinfo, cb) => {
      if (typeof rinfo === 'function') {
        cb = rinfo as (error?: Error | null) => void;
        rinfo = null;
      }
      const done = (error?: Error | null) => {
        if (error) {
          if (typeof error === 'object') this.#reported.add(error);
          this.#problem(mdnsError('sending an mDNS packet failed', error));
        }
        cb?.(error);
      };
      try {
        send(value, rinfo, done);
      } catch (error) {
        // dns-packet throws on a record it cannot encode; this is reached synchronously once the socket is bound.
        done(error as Error);
      }
    };
  }

  /** Sends a packet (multicast). Rejects with DiscoveryError when the system refuses it (no multicast route…). */
  send(packet: object): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new DiscoveryError('the mDNS socket is closed'));
      this.mdns.send(packet, null, (error) =>
        error ? reject(mdnsError('sending an mDNS packet failed', error)) : resolve(),
      );
    });
  }

  /** Asks the link these questions in one query packet. */
  query(questions: { name: string; type: string }[]): Promise<void> {
    return this.send({ type: 'query', questions });
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Closes the socket (after whatever goodbyes the caller sent). Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      try {
        this.bonjour.destroy(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.#closed;
  }
}
