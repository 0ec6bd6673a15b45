import net from 'node:net';
import { FrameReader } from './frames.js';

/**
 * The baseline's client: the least a hand-written protocol needs to do per call, which is to write one frame and
 * match the reply. The server answers in order, so replies match requests first-in first-out.
 */
export class RawClient {
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader();
  readonly #waiting: Array<{ resolve: (frame: Buffer) => void; reject: (error: Error) => void }> = [];
  #closed: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#reader.push(chunk, (frame) => this.#waiting.shift()?.resolve(frame));
      } catch (error) {
        this.#fail(error as Error);
      }
    });
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the raw connection closed')));
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawClient(socket));
      });
    });
  }

  /**
   * Sends one frame (header included); resolves with the echoed frame. Frames sent in one tick go out with one
   * write (corked until the next tick), as netref's are: otherwise the baseline of calls in flight is a syscall per
   * call, which no real protocol needs.
   */
  call(frame: Buffer): Promise<Buffer> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#corked) {
        this.#corked = true;
        this.#socket.cork();
        process.nextTick(this.#uncork);
      }
      this.#socket.write(frame);
    });
  }

  #corked = false;
  #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#socket.destroyed) resolve();
      else {
        this.#socket.once('close', () => resolve());
        this.#socket.end();
      }
    });
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
    this.#socket.destroy();
  }
}
