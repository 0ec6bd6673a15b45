import type { Channel, ChannelReceiver } from '../../src/index.js';

/**
 * A channel that passes everything through to `inner`. A test overrides `onReceive` or `onSend` to watch or change
 * the frames on their way.
 */
export class ForwardingChannel implements Channel {
  constructor(readonly inner: Channel) {}
  get info() {
    return this.inner.info;
  }
  get isClosed() {
    return this.inner.isClosed;
  }
  start(receiver: ChannelReceiver): void {
    this.inner.start({ ...receiver, frame: (f) => receiver.frame(this.onReceive(f)) });
  }
  send(frame: Uint8Array): boolean {
    return this.inner.send(this.onSend(frame));
  }
  flush(): void {
    this.inner.flush?.();
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
  /** What the receiver gets for a frame that arrived. */
  protected onReceive(frame: Uint8Array): Uint8Array {
    return frame;
  }
  /** What goes to `inner` for a frame sent. */
  protected onSend(frame: Uint8Array): Uint8Array {
    return frame;
  }
}
