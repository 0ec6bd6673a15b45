// W3–W6 over a MessagePort, against the same raw echo worker and netref connectThread service as W1/W2
// (laterWorkloads.ts runs them). W6 here is starting a worker and making the first call.
import { connectThread, type Connection, type ThreadConnection } from '../dist/index.js';
import { RAW_PAYLOAD_BYTES, type BenchConfig } from './config.js';
import { measureLaterWorkloads } from './laterWorkloads.js';
import { RawPortClient } from './rawPortClient.js';
import type { Row } from './report.js';

/** The netref side's worker: `connectThread` to bench/threadService.mjs. */
export function connectService(): Promise<ThreadConnection> {
  // execArgv: [] keeps this process's `--import tsx` out of the worker: the service is plain JavaScript.
  return connectThread(new URL('./threadService.mjs', import.meta.url), { execArgv: [] });
}

/** Runs W3–W6 over a MessagePort for `config.rounds` rounds and returns their table rows. */
export function measurePortWorkloads(raw: RawPortClient, conn: Connection, config: BenchConfig): Promise<Row[]> {
  return measureLaterWorkloads(
    conn,
    {
      rawCall: (i) => raw.call(i, RAW_PAYLOAD_BYTES),
      // By structured clone both ways (see RawPortClient.echo).
      rawEcho: (bytes) => raw.echo(bytes),
      // Fewer than over TCP: each one starts (and ends) a worker thread, tens of milliseconds.
      connects: Math.max(5, Math.round(20 * config.scale)),
      // Each worker is a fresh isolate, warm only on this side.
      warmupConnects: 3,
      rawOpen: rawStartAndPing,
      netrefOpens: [{ label: 'start worker + first call', open: netrefStartAndCall }],
      heapOwner: 'worker',
    },
    config,
  );
}

/** The raw W6: a new Worker, online, a MessagePort handed to it, and one ping-pong over that port. */
async function rawStartAndPing(): Promise<() => Promise<void>> {
  const client = await RawPortClient.start();
  const echoed = await client.call(1, RAW_PAYLOAD_BYTES);
  if (echoed.byteLength !== RAW_PAYLOAD_BYTES) throw new Error('the raw MessagePort worker did not echo');
  return () => client.close();
}

async function netrefStartAndCall(): Promise<() => Promise<void>> {
  const conn = await connectService();
  const sum: unknown = await conn.root.add(1, 1);
  if (sum !== 2) throw new Error(`netref add(1, 1) in a worker returned ${String(sum)}`);
  return () => conn.close();
}
