// W3–W6 over TCP, against the same raw and netref server processes as W1/W2 (laterWorkloads.ts runs them).
import { connect, type Connection } from '../dist/index.js';
import { RAW_PAYLOAD_BYTES, type BenchConfig } from './config.js';
import { makeFrame } from './frames.js';
import { measureLaterWorkloads } from './laterWorkloads.js';
import { RawClient } from './rawClient.js';
import type { Row } from './report.js';

const HOST = '127.0.0.1';

/** Runs W3–W6 over TCP for `config.rounds` rounds and returns their table rows. */
export function measureTcpWorkloads(
  raw: RawClient,
  conn: Connection,
  ports: { raw: number; netref: number },
  config: BenchConfig,
): Promise<Row[]> {
  let rawBulk: Buffer | undefined;
  return measureLaterWorkloads(
    conn,
    {
      rawCall: (i) => raw.call(makeFrame(i, RAW_PAYLOAD_BYTES)),
      rawEcho: (bytes) => {
        // A frame around the bytes, made once: the raw server echoes whole frames.
        rawBulk ??= makeFrame(7, bytes.byteLength);
        return raw.call(rawBulk);
      },
      connects: Math.max(20, Math.round(200 * config.scale)),
      // A connection runs much of its code once, so it warms up slowly: here its time stopped falling after ~2,000.
      warmupConnects: config.warmupCalls,
      rawOpen: () => rawConnectAndPing(ports.raw),
      // connect() waits for the peer's hello by default (so a refusal rejects it); earlyCalls sends the call with ours.
      netrefOpens: [
        { label: 'connect + first call', open: () => netrefConnectAndCall(ports.netref, false) },
        { label: 'with earlyCalls', open: () => netrefConnectAndCall(ports.netref, true) },
      ],
      heapOwner: 'server',
    },
    config,
  );
}

async function rawConnectAndPing(port: number): Promise<() => Promise<void>> {
  const client = await RawClient.connect(HOST, port);
  await client.call(makeFrame(1, RAW_PAYLOAD_BYTES));
  return () => client.close();
}

async function netrefConnectAndCall(port: number, earlyCalls: boolean): Promise<() => Promise<void>> {
  const conn = await connect(HOST, port, { earlyCalls });
  const sum: unknown = await conn.root.add(1, 1);
  if (sum !== 2) throw new Error(`netref add(1, 1) returned ${String(sum)}`);
  return () => conn.close();
}
