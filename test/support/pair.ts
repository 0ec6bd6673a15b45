import {
  channelPair,
  classic,
  ClassicService,
  connectChannel,
  type Channel,
  type Connection,
  type ConnectOptions,
} from '../../src/index.js';
import { ForwardingChannel } from './ForwardingChannel.js';

/** A channel that records what passes through it, for tests that count frames. */
export class TapChannel extends ForwardingChannel {
  readonly sent: Uint8Array[] = [];
  readonly received: Uint8Array[] = [];
  /** Order of events: 'send' and 'recv'. */
  readonly log: string[] = [];
  protected override onReceive(frame: Uint8Array): Uint8Array {
    this.received.push(frame);
    this.log.push('recv');
    return frame;
  }
  protected override onSend(frame: Uint8Array): Uint8Array {
    this.sent.push(frame);
    this.log.push('send');
    return frame;
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

/**
 * A classic end (a ClassicService) and a ClassicConnection to it, in this process. `wrap` may wrap the client's end
 * of the channel (a TapChannel, to count frames); `channel` is what it returned.
 */
export async function classicPair<W extends Channel = Channel>(wrap?: (c: Channel) => W) {
  const [ca, cb] = channelPair();
  const channel = wrap ? wrap(cb) : (cb as W);
  const [server, c] = await Promise.all([
    connectChannel(ca, { service: ClassicService }),
    classic.connectChannel(channel),
  ]);
  return { c, server, channel, close: async () => void (await Promise.all([c.close(), server.close()])) };
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
