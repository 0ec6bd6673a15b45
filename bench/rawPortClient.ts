import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/** One port to the echoing worker; replies come back in order, first-in first-out. */
class EchoPort {
  readonly port: MessagePort;
  readonly #waiting: Array<(bytes: Uint8Array) => void> = [];

  #batch: Uint8Array<ArrayBuffer>[] = [];

  constructor(port: MessagePort) {
    this.port = port;
    port.on('message', (bytes: Uint8Array | Uint8Array[]) => {
      if (Array.isArray(bytes)) for (const b of bytes) this.#waiting.shift()?.(b);
      else this.#waiting.shift()?.(bytes);
    });
  }

  /** Posts `bytes` by structured clone (a copy); resolves with the echo. */
  send(bytes: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.port.postMessage(bytes);
    });
  }

  /**
   * Posts `frame`, its buffer transferred, with the other frames of this tick as one message (an array), as netref's
   * PortChannel batches; resolves with the echo.
   */
  sendBatched(frame: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#batch.push(frame) === 1) process.nextTick(this.#post);
    });
  }

  #post = (): void => {
    const out = this.#batch;
    this.#batch = [];
    if (out.length === 1) this.port.postMessage(out[0], [out[0]!.buffer]);
    else
      this.port.postMessage(
        out,
        out.map((f) => f.buffer),
      );
  };
}

/**
 * The MessagePort baseline's client: posts small frames (each a fresh Uint8Array, its buffer transferred, the frames
 * of one tick as one message, as netref's PortChannel does) to an echoing worker and matches the replies. Bulk bytes go over a second port, opened on first
 * use, by structured clone both ways (see `echo`).
 */
export class RawPortClient {
  readonly #worker: Worker;
  readonly #ping: EchoPort;
  #bulk: EchoPort | undefined;

  private constructor(worker: Worker, ping: EchoPort) {
    this.#worker = worker;
    this.#ping = ping;
  }

  /** Starts the echoing worker and opens the ping port; rejects (leaving no worker) if the worker fails to start. */
  static async start(): Promise<RawPortClient> {
    // No tsx in the worker (execArgv: []): the echo is plain JavaScript, like the netref side's service.
    const worker = new Worker(new URL('./rawPortEcho.mjs', import.meta.url), { execArgv: [] });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('online', resolve);
        worker.once('error', reject);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return new RawPortClient(worker, RawPortClient.#open(worker, false));
  }

  static #open(worker: Worker, copy: boolean): EchoPort {
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ port: port2, copy }, [port2]);
    return new EchoPort(port1);
  }

  /** Sends a frame of `payloadBytes` whose first 4 bytes are `seq`; resolves with the echo. */
  call(seq: number, payloadBytes: number): Promise<Uint8Array> {
    const frame = new Uint8Array(payloadBytes);
    new DataView(frame.buffer).setUint32(0, seq >>> 0);
    return this.#ping.sendBatched(frame);
  }

  /**
   * W4's baseline: echoes `bytes` by structured clone (a copy) each way, never transferring: the caller keeps its
   * bytes, as a netref caller keeps its argument, and the worker keeps what it returns, as a netref service does. A
   * copy per direction is also the least netref pays, encoding the bytes into its frame; a transfer would detach
   * the caller's buffer, which no RPC library may do to an argument.
   */
  echo(bytes: Uint8Array): Promise<Uint8Array> {
    this.#bulk ??= RawPortClient.#open(this.#worker, true);
    return this.#bulk.send(bytes);
  }

  /** Closes the ports and ends the worker; resolves once it has exited. */
  async close(): Promise<void> {
    this.#ping.port.close();
    this.#bulk?.port.close();
    await this.#worker.terminate();
  }
}
