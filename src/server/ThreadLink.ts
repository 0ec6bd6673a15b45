import type { Duplex } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { PortChannel, StreamChannel, type ChannelInfo } from '../channel/index.js';
import { ConnectionClosedError, settlesWithin, type PeerInfo } from '../core/index.js';
import { encode, MessageKind } from '../protocol/index.js';
import type { Served } from './ServerBase.js';

/** What a ThreadedServer's `connection` and `disconnect` events carry: the Connection itself lives in a worker. */
export interface ThreadedConnectionInfo {
  /** Unique within the server (the worker's own `conn.id` is not: each worker counts from 1). */
  readonly id: string;
  readonly peer: PeerInfo;
  /** The `threadId` of the worker thread serving it. */
  readonly threadId: number;
}

/** How long `close()` lets the worker close the connection (it may be busy in a call) before cutting the relay. */
const CLOSE_GRACE = 2000;

/** How long a port closed without word from its worker waits for the worker's exit before the socket closes. */
const PORT_GONE_WAIT = 1000;

/**
 * One client of a ThreadedServer, on the acceptor's side: relays whole frames between the client's socket and the
 * MessagePort of the worker that runs its Connection. A frame is read from the socket, copied once out of the
 * socket's buffer and moved (its buffer transferred) to the worker; replies move back the same way and are written
 * out. The acceptor never decodes a frame: handshake, heartbeat and calls are the client's and the worker's.
 *
 * Done once the relay has closed and the worker has reported its connection closed (or the worker is gone).
 */
export class ThreadLink implements Served {
  readonly info: ThreadedConnectionInfo;
  /** Resolves with the close reason (undefined: closed by the server). Never rejects. */
  readonly done: Promise<Error | undefined>;
  /** The handshake completed (the worker said so). */
  connected = false;
  #socket: StreamChannel;
  #port: PortChannel;
  #askClose: () => void;
  #workerDone = false;
  #finished = false;
  #reason: Error | undefined;
  #resolve!: (reason: Error | undefined) => void;
  #portGone: NodeJS.Timeout | undefined;

  constructor(
    stream: Duplex,
    port: MessagePort,
    options: { info: ThreadedConnectionInfo; channelInfo: ChannelInfo; maxFrameSize: number; askClose: () => void },
  ) {
    this.info = options.info;
    this.#askClose = options.askClose;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    const { maxFrameSize } = options;
    this.#socket = new StreamChannel(stream, { maxFrameSize, info: options.channelInfo });
    this.#port = new PortChannel(port, { maxFrameSize, batch: true });
    // Either side closing closes the other: frames already on their way are delivered first, then the end.
    this.#socket.start({
      frame: (f) => this.#port.send(f),
      closed: () => {
        this.#port.close();
        this.#check();
      },
    });
    this.#port.start({
      frame: (f) => this.#socket.send(f),
      closed: () => {
        // A worker that dies closes its ports before Node reports its exit. Until the worker says it closed the
        // connection, keep the socket, so the client can still be told why (see cut); bounded.
        if (this.#workerDone) this.#socket.close();
        else {
          this.#portGone = setTimeout(() => this.#socket.close(), PORT_GONE_WAIT);
          this.#portGone.unref();
        }
        this.#check();
      },
    });
  }

  /** The worker's connection stops or starts reading again (too many requests pending): so does the socket. */
  pause(paused: boolean): void {
    if (paused) this.#socket.pause();
    else this.#socket.resume();
  }

  /** The worker reports the connection closed. */
  workerClosed(reason: Error | undefined): void {
    this.#workerDone = true;
    this.#reason = reason;
    if (this.#port.isClosed) this.#socket.close();
    this.#check();
  }

  /**
   * The worker is gone (crashed, exited, or too slow to close): the client is told why with a netref GOODBYE, so its
   * calls reject with ConnectionClosedError naming `reason`, and the relay closes.
   */
  cut(reason: Error): void {
    if (this.#finished) return;
    if (!this.#socket.isClosed) {
      this.#socket.send(encode([MessageKind.GOODBYE, reason.message]));
      this.#socket.close();
    }
    this.#port.close();
    this.#workerDone = true;
    this.#reason =
      reason instanceof ConnectionClosedError ? reason : new ConnectionClosedError(reason.message, { cause: reason });
    this.#check();
  }

  /** Asks the worker to close the connection (pending calls reject on both ends); cuts it after a grace period. */
  async close(): Promise<void> {
    if (this.#finished) return;
    this.#askClose();
    if (!(await settlesWithin(this.done, CLOSE_GRACE)))
      this.cut(new ConnectionClosedError('the server closed the connection (its worker thread was busy)'));
    await this.done;
  }

  #check(): void {
    if (this.#socket.isClosed) clearTimeout(this.#portGone);
    if (this.#finished || !this.#workerDone || !this.#socket.isClosed || !this.#port.isClosed) return;
    this.#finished = true;
    this.#resolve(this.#reason);
  }
}
