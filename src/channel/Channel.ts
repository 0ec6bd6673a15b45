/**
 * Where a channel's bytes come from, as far as the channel knows. `Connection.peer` is built from it.
 */
export interface ChannelInfo {
  /** `tcp`, `unix`, `stream`, `pipes`, `port` or `memory`. */
  transport: string;
  remoteAddress?: string;
  remotePort?: number;
}

/** What a channel reports to its one receiver. */
export interface ChannelReceiver {
  /**
   * One whole frame, in the order the peer sent it. The receiver owns the bytes (they are not reused by the
   * channel). A throw from here is the receiver's own failure: the channel does not catch it.
   */
  frame(frame: Uint8Array): void;
  /**
   * The channel is closed and will deliver nothing more. Called exactly once. `error` is undefined for an orderly
   * end (this end called `close()`, or the peer ended the stream); otherwise it says what broke: a stream error,
   * a frame over `maxFrameSize`, a truncated frame at end of stream.
   */
  closed(error?: Error): void;
  /**
   * Optional: the frames of one read have all been delivered. A receiver can send what it has ready now rather
   * than later in the turn (replies of synchronous handlers leave with one write per read).
   */
  drained?(): void;
}

/**
 * Moves whole frames (`Uint8Array`) in order between two ends. It knows nothing of objects or messages.
 *
 * Failure contract:
 * - `send` on a closed channel does nothing and returns false: the frame is dropped. Callers learn of the close
 *   through `ChannelReceiver.closed`, which always comes, once.
 * - Errors of the underlying stream or port never throw out of `send` and are never emitted as `error` events:
 *   they close the channel and reach `closed(error)`.
 * - `close()` is idempotent. It flushes frames already queued, then ends the transport.
 */
export interface Channel {
  readonly info: ChannelInfo;
  /** True once the channel has closed (by either end, or by failure). */
  readonly isClosed: boolean;
  /**
   * Installs the receiver and starts reading. Frames that arrived before `start` are held, not lost.
   * Call it once.
   */
  start(receiver: ChannelReceiver): void;
  /**
   * Queues one frame. Frames queued in the same tick go out together (one write on a stream). Returns false when
   * the channel is closed (the frame is dropped) — see the failure contract above. The channel takes the frame: the
   * caller must not use it afterwards (a PortChannel may transfer its memory away, a StreamChannel may reuse it once
   * written).
   */
  send(frame: Uint8Array): boolean;
  /**
   * Optional: writes the frames queued so far now instead of at the end of the tick. For a caller that batches its
   * own frames and knows the batch is complete.
   */
  flush?(): void;
  /** Stops delivering frames until `resume()` (backpressure towards a peer that floods us). */
  pause(): void;
  resume(): void;
  /** Flushes what is queued and ends the transport. `closed()` follows (with no error). */
  close(): void;
}
