import os from 'node:os';
import type { Connection } from '../core/index.js';
import { openRegistryConnection } from './openRegistryConnection.js';
import type { RegistryEntry } from './RegistryService.js';

/** How long one register/unregister exchange may take. */
const EXCHANGE_TIMEOUT = 5000;

/** This host's addresses as an mDNS announcement lists them: every non-internal interface. */
export function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) out.push(a.address);
  }
  return out.slice(0, 16);
}

/**
 * Keeps one entry registered with a RegistryServer: registers at `start()`, renews at a third of the registry's
 * `pruneAfter` (or every `refresh` ms), reconnects when the registry went away, and unregisters at `close()`.
 * A failed exchange is handed to `onError` and tried again at the next renewal; it never throws.
 */
export class RegistryRegistration {
  #conn: Connection | undefined;
  #id: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #refresh: number | undefined;
  #inflight: Promise<boolean> | undefined;

  constructor(
    readonly address: string,
    readonly entry: RegistryEntry,
    private readonly onError: (error: unknown) => void,
    refresh?: number,
  ) {
    this.#refresh = refresh;
  }

  /** Registers once (resolves true on success, false after reporting the failure) and starts renewing. */
  async start(): Promise<boolean> {
    const ok = await this.#register();
    this.#schedule();
    return ok;
  }

  async #connection(): Promise<Connection> {
    if (this.#conn && !this.#conn.isClosed) return this.#conn;
    this.#conn = await openRegistryConnection(this.address, EXCHANGE_TIMEOUT);
    return this.#conn;
  }

  #register(): Promise<boolean> {
    this.#inflight = this.#exchange();
    return this.#inflight;
  }

  async #exchange(): Promise<boolean> {
    try {
      const conn = await this.#connection();
      const answer = (await withTimeout(conn.root.register(this.entry))) as { id: string; pruneAfter: number };
      this.#id = answer.id;
      this.#refresh ??= Math.max(100, Math.floor(answer.pruneAfter / 3));
      return true;
    } catch (error) {
      if (!this.#closed) this.onError(error);
      return false;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(async () => {
      await this.#register();
      this.#schedule();
    }, this.#refresh ?? 10_000);
  }

  /** Stops renewing and unregisters (bounded; a registry that is gone prunes the entry itself). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#inflight;
    const conn = this.#conn;
    if (!conn) return;
    try {
      if (this.#id !== undefined) await withTimeout(conn.root.unregister(this.#id));
    } catch {
      // the registry prunes what is not renewed
    }
    await conn.close();
  }
}

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the registry did not answer within ${EXCHANGE_TIMEOUT} ms`)),
        EXCHANGE_TIMEOUT,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}
