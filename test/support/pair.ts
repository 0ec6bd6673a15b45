import { channelPair, connectChannel, type Channel, type Connection, type ConnectOptions } from '../../src/index.js';

/** A channel that records what passes through it, for tests that count frames. */
export class TapChannel implements Channel {
  readonly sent: Uint8Array[] = [];
  readonly received: Uint8Array[] = [];
  /** Order of events: 'send' and 'recv'. */
  readonly log: string[] = [];
  constructor(readonly inner: Channel) {}
  get info() {
    return this.inner.info;
  }
  get isClosed() {
    return this.inner.isClosed;
  }
  start(receiver: Parameters<Channel['start']>[0]): void {
    this.inner.start({
      frame: (f) => {
        this.received.push(f);
        this.log.push('recv');
        receiver.frame(f);
      },
      closed: (e) => receiver.closed(e),
    });
  }
  send(frame: Uint8Array): boolean {
    this.sent.push(frame);
    this.log.push('send');
    return this.inner.send(frame);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  close(): void {
    this.inner.close();
  }
}

/** Two connected in-process connections; `a` exposes `aOpts.service`, `b` exposes `bOpts.service`. */
export async function pair(
  aOpts: ConnectOptions = {},
  bOpts: ConnectOptions = {},
): Promise<{ a: Connection; b: Connection; tapA: TapChannel; tapB: TapChannel; close(): Promise<void> }> {
  const [ca, cb] = channelPair();
  const tapA = new TapChannel(ca);
  const tapB = new TapChannel(cb);
  const [a, b] = await Promise.all([connectChannel(tapA, aOpts), connectChannel(tapB, bOpts)]);
  return {
    a,
    b,
    tapA,
    tapB,
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** Resolves when `cond()` holds, polling each macrotask; rejects after `ms`. For states with no event to wait on. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Rejects after `ms` with a message naming `what`, else resolves with `p`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, rej) => {
      t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
