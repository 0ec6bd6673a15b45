import { EventEmitter } from 'node:events';
import type { Service as BonjourService } from 'bonjour-service';
import { settlesWithin, type DiscoveryError } from '../core/index.js';
import { MdnsLink, type MdnsOptions, type MdnsPacket } from './MdnsLink.js';
import { dnsKey, SERVICE_DOMAIN, SERVICE_TYPE } from './mdnsNames.js';
import { probeName } from './probeName.js';
import { interfaceAddresses, RegistryRegistration } from './RegistryRegistration.js';
import { WITHDRAW_LIMIT, withdrawOnExit } from './withdrawOnExit.js';

/** What an Announcement publishes, resolved: names, TXT and where. */
export interface AnnouncementRecord {
  /** The instance name asked for; the one in use may carry a suffix after a conflict (`name`). */
  baseName: string;
  names: string[];
  host: string;
  port: number;
  txt: Record<string, string>;
}

/** How an Announcement is made (see `announce`). */
export interface AnnouncementOptions extends MdnsOptions {
  mdns: boolean;
  registry?: string;
  refresh?: number;
  withdrawOnExit: boolean;
}

/**
 * A live announcement (made by `announce`). `close()` withdraws it: goodbye packets (TTL 0) on mDNS, `unregister`
 * with the registry. Also withdrawn on SIGINT/SIGTERM (see `withdrawOnExit`).
 *
 * Events:
 * - `error` (DiscoveryError): a send that failed (no multicast route: nobody hears the announcement), a socket error,
 *   a registry that could not be reached. Emitted only when someone listens; otherwise the first one becomes a
 *   process warning (printed on stderr), and `lastError` keeps the latest either way. Never thrown, never fatal.
 * - `rename` (newName, oldName): another host announced the same instance name at the same time and won the tie.
 */
export class Announcement extends EventEmitter {
  /** The instance name in use. */
  name: string;
  readonly names: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly txt: Readonly<Record<string, string>>;
  /** The latest problem reported, if any. */
  lastError: DiscoveryError | Error | undefined;
  #record: AnnouncementRecord;
  #link: MdnsLink | undefined;
  #published: BonjourService | undefined;
  #registration: RegistryRegistration | undefined;
  #forget: (() => void) | undefined;
  #warned = false;
  /** Problems met while `start` runs, delivered once the caller has had the chance to listen. */
  #early: Error[] | undefined = [];
  #renaming = false;
  #withdrawn: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  private constructor(record: AnnouncementRecord) {
    super();
    this.#record = record;
    this.name = record.baseName;
    this.names = record.names;
    this.host = record.host;
    this.port = record.port;
    this.txt = record.txt;
  }

  /**
   * Publishes `record`. Resolves once the name is probed and the first announcement is sent (about 0.75 s per name
   * tried) and the registry (if any) was asked once. Rejects with DiscoveryError only when the mDNS socket cannot be
   * opened at all; later failures are `error` events.
   */
  static async start(record: AnnouncementRecord, options: AnnouncementOptions): Promise<Announcement> {
    const a = new Announcement(record);
    if (options.mdns) {
      const link = await MdnsLink.open(options);
      a.#link = link;
      link.on('problem', (error: DiscoveryError) => a.#report(error));
      link.on('response', (packet: MdnsPacket) => a.#watchConflict(packet));
      try {
        a.name = await probeName(link, record.baseName);
      } catch (error) {
        await link.close();
        throw error;
      }
      a.#publish();
    }
    if (options.registry !== undefined) {
      const entry = {
        name: a.name,
        host: record.host,
        port: record.port,
        txt: record.txt,
        addresses: interfaceAddresses(),
      };
      a.#registration = new RegistryRegistration(
        options.registry,
        entry,
        (e) => a.#report(e as Error),
        options.refresh,
      );
      await a.#registration.start();
    }
    if (options.withdrawOnExit) a.#forget = withdrawOnExit(a);
    // `await announce(...)` resumes before this runs, so an `error` listener added right after it hears these.
    setImmediate(() => {
      const early = a.#early ?? [];
      a.#early = undefined;
      for (const error of early) a.#report(error);
    });
    return a;
  }

  #report(error: Error): void {
    if (this.#early) {
      this.#early.push(error);
      return;
    }
    this.lastError = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else if (!this.#warned) {
      this.#warned = true;
      process.emitWarning(error);
    }
  }

  #publish(): void {
    const r = this.#record;
    // probe: false — the name was probed above; bonjour-service's own probe only logs a conflict and gives up.
    this.#published = this.#link!.bonjour.publish({
      name: this.name,
      type: SERVICE_TYPE,
      port: r.port,
      host: r.host,
      txt: r.txt,
      probe: false,
    });
    this.#published.on('error', (error: Error) => this.#report(error));
  }

  /**
   * Two hosts that probed the same name at the same moment both announce it. RFC 6762 §8.2: the one whose record
   * data sorts lower gives way, so exactly one of them renames.
   */
  #watchConflict(packet: MdnsPacket): void {
    if (!this.#published || this.#renaming || this.#withdrawn) return;
    const fqdn = dnsKey(`${this.name}.${SERVICE_DOMAIN}`);
    const ours = `${dnsKey(this.host)}:${this.port}`;
    for (const rr of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (rr?.type !== 'SRV' || typeof rr.name !== 'string' || dnsKey(rr.name) !== fqdn || !(rr.ttl! > 0)) continue;
      const theirs = `${dnsKey(String(rr.data?.target ?? ''))}:${rr.data?.port}`;
      if (theirs !== ours && ours < theirs) void this.#rename();
      return;
    }
  }

  async #rename(): Promise<void> {
    this.#renaming = true;
    const old = this.name;
    try {
      await this.#unpublish();
      if (this.#withdrawn) return;
      this.name = await probeName(this.#link!, this.#record.baseName, new Set([dnsKey(old)]));
      if (this.#withdrawn) return;
      this.#publish();
      this.emit('rename', this.name, old);
    } catch (error) {
      this.#report(error as Error);
    } finally {
      this.#renaming = false;
    }
  }

  /** Sends the goodbye of the published instance (bounded). */
  #unpublish(): Promise<void> {
    const published = this.#published;
    this.#published = undefined;
    if (!published) return Promise.resolve();
    return bounded(new Promise<void>((resolve) => published.stop?.(() => resolve())));
  }

  /** Goodbyes and unregistering, once; the socket stays open until `close()`. Never rejects. */
  withdraw(): Promise<void> {
    this.#withdrawn ??= Promise.all([
      this.#unpublish(),
      bounded(this.#registration?.close() ?? Promise.resolve()),
    ]).then(
      () => {},
      () => {},
    );
    return this.#withdrawn;
  }

  /** Withdraws the announcement and releases its socket and connection. Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#forget?.();
      await this.withdraw();
      await this.#link?.close();
    })();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Waits for `p` to settle, WITHDRAW_LIMIT at most. */
async function bounded(p: Promise<unknown>): Promise<void> {
  await settlesWithin(p, WITHDRAW_LIMIT);
}
