import { Writable } from 'node:stream';
import { StreamChannel } from '../channel/index.js';
import { resolveProtocolConfig, type Connection } from '../core/index.js';
import type { ConnectOptions } from './ConnectOptions.js';
import { connectChannel } from './connectChannel.js';

let serving = false;

/**
 * Serves (and calls) over this process's own stdin/stdout: what a program started by `connectSubproc` (or by
 * `ssh host netref serve … --stdio`) calls. From then on stdout carries only frames: anything else written to
 * `process.stdout` — `console.log`, a library printing — goes to stderr instead, so it cannot corrupt the stream.
 * When the connection ends, stdout is given back and stdin is released (so the process can exit).
 *
 * Rejects like `connectChannel` (handshake failure or timeout, stdin ending first); throws if stdio is already in
 * use by another `connectStdpipes` connection.
 */
export async function connectStdpipes(options: ConnectOptions = {}): Promise<Connection> {
  if (serving) throw new Error('connectStdpipes: stdin/stdout already carry a netref connection');
  serving = true;
  const stdout = process.stdout;
  const write = stdout.write;
  const frames = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      (write as (c: Buffer, cb: (e?: Error | null) => void) => boolean).call(stdout, chunk, (e) => callback(e ?? null));
    },
    final(callback) {
      // stdout itself stays open: the peer learns of the end from our goodbye, or from our exit.
      callback();
    },
  });
  stdout.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(chunk, encoding, callback)) as typeof stdout.write;
  const restore = () => {
    if (stdout.write !== write) stdout.write = write;
    serving = false;
  };
  const { maxFrameSize } = resolveProtocolConfig(options.protocolConfig);
  const channel = new StreamChannel(process.stdin, frames, { maxFrameSize, info: { transport: 'stdio' } });
  try {
    const conn = await connectChannel(channel, { ...options, release: restore });
    return conn;
  } catch (error) {
    restore();
    throw error;
  }
}
