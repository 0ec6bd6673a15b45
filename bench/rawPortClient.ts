import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/**
 * The MessagePort baseline's client: posts one small frame (a fresh Uint8Array, its buffer transferred, as netref's
 * PortChannel does) to an echoing worker and matches the reply. Replies come back in order, first-in first-out.
 */
export class RawPortClient {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #waiting: Array<(frame: Uint8Array) => void> = [];

  private constructor(worker: Worker, port: MessagePort) {
    this.#worker = worker;
    this.#port = port;
    port.on('message', (frame: Uint8Array) => this.#waiting.shift()?.(frame));
  }

  static async start(): Promise<RawPortClient> {
    // No tsx in the worker (execArgv: []): the echo is plain JavaScript, like the netref side's service.
    const worker = new Worker(new URL('./rawPortEcho.mjs', import.meta.url), { execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    const { port1, port2 } = new MessageChannel();
    worker.postMessage(port2, [port2]);
    return new RawPortClient(worker, port1);
  }

  /** Sends a frame of `payloadBytes` whose first 4 bytes are `seq`; resolves with the echo. */
  call(seq: number, payloadBytes: number): Promise<Uint8Array> {
    const frame = new Uint8Array(payloadBytes);
    new DataView(frame.buffer).setUint32(0, seq >>> 0);
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#port.postMessage(frame, [frame.buffer]);
    });
  }

  /** Closes the port and ends the worker; resolves once it has exited. */
  async close(): Promise<void> {
    this.#port.close();
    await this.#worker.terminate();
  }
}
