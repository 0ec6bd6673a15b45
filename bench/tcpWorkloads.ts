// W3–W6 over TCP, against the same raw and netref server processes as W1/W2, each beside its raw baseline
// measured in the same run. Round-trip figures are divided by the raw ping-pong's mean, measured alongside.
import { connect, release, type Connection } from '../dist/index.js';
import { RAW_PAYLOAD_BYTES, type BenchConfig } from './config.js';
import { makeFrame } from './frames.js';
import { RawClient } from './rawClient.js';
import type { Row } from './report.js';
import { inFlight, latencyStats, sequential, type Call } from './workloads.js';

const HOST = '127.0.0.1';
const MIB = 1024 * 1024;
/** W4 moves this many 1 MiB arguments per round, with a few outstanding so the pipe never idles. */
const BULK_CHUNKS = 64;
const BULK_IN_FLIGHT = 4;

export const TARGETS = { callback: 1.1, bulk: 0.9, cycle: 1.5, connect: 1.3 } as const;

interface Totals {
  rawRtt: Float64Array[];
  callbackUs: number;
  callbacks: number;
  rawBulkMs: number;
  netrefBulkMs: number;
  cycle: Float64Array[];
  rawConnect: Float64Array[];
  netrefConnect: Float64Array[];
  earlyConnect: Float64Array[];
}

/** Runs W3–W6 for `config.rounds` rounds, alternating raw and netref, and returns their table rows. */
export async function measureTcpWorkloads(
  raw: RawClient,
  conn: Connection,
  ports: { raw: number; netref: number },
  config: BenchConfig,
): Promise<Row[]> {
  const root = conn.root;
  const rawCall: Call = (i) => raw.call(makeFrame(i, RAW_PAYLOAD_BYTES));
  const callback = (i: number) => i + 1;
  const rawBulk = makeFrame(7, MIB);
  const bulk = new Uint8Array(MIB).fill(7);
  const rawBulkCall: Call = async () => {
    const back = await raw.call(rawBulk);
    if (back.length !== rawBulk.length) throw new Error('the raw bulk echo came back short');
  };
  const netrefBulkCall: Call = async () => {
    const back = (await root.echo(bulk)) as Uint8Array;
    if (back.byteLength !== MIB) throw new Error('the netref bulk echo came back short');
  };
  // Written as a user would: the call on the not-yet-resolved result pipelines behind `make`.
  const cycle: Call = async (i) => {
    const made = root.make(i);
    const value: unknown = await made.value();
    if (value !== i) throw new Error(`make(${i}).value() returned ${String(value)}`);
    release(await made);
  };
  const connectCount = Math.max(20, Math.round(200 * config.scale));
  const totals: Totals = {
    rawRtt: [],
    callbackUs: 0,
    callbacks: 0,
    rawBulkMs: 0,
    netrefBulkMs: 0,
    cycle: [],
    rawConnect: [],
    netrefConnect: [],
    earlyConnect: [],
  };

  await netrefBulkCall(0);
  await rawBulkCall(0);
  // The server's heap around the measured cycles, after their warm-up, so it shows what the cycles leave behind
  // rather than the warm-up of code and tables; the last round's pair is reported, the server warmest by then.
  let heapBefore = 0;
  let heapAfter = 0;
  for (let round = 1; round <= config.rounds; round++) {
    await sequential(rawCall, config.warmupCalls);
    totals.rawRtt.push(await sequential(rawCall, config.sequentialCalls));
    await root.bounce(callback, config.warmupCalls);
    totals.callbackUs += (await root.bounce(callback, config.sequentialCalls)) as number;
    totals.callbacks += config.sequentialCalls;

    await inFlight(rawBulkCall, 8, BULK_IN_FLIGHT);
    totals.rawBulkMs += await inFlight(rawBulkCall, BULK_CHUNKS, BULK_IN_FLIGHT);
    await inFlight(netrefBulkCall, 8, BULK_IN_FLIGHT);
    totals.netrefBulkMs += await inFlight(netrefBulkCall, BULK_CHUNKS, BULK_IN_FLIGHT);

    await sequential(cycle, config.warmupCalls);
    heapBefore = (await root.heap()) as number;
    totals.cycle.push(await sequential(cycle, config.sequentialCalls));
    heapAfter = (await root.heap()) as number;

    totals.rawConnect.push(await timeConnects(connectCount, () => rawConnectAndPing(ports.raw)));
    totals.netrefConnect.push(await timeConnects(connectCount, () => netrefConnectAndCall(ports.netref, false)));
    totals.earlyConnect.push(await timeConnects(connectCount, () => netrefConnectAndCall(ports.netref, true)));
    console.log(`W3-W6 round ${round}/${config.rounds} done`);
  }

  const rtt = latencyStats(totals.rawRtt).mean;
  const callbackMean = totals.callbackUs / totals.callbacks;
  const cycleMean = latencyStats(totals.cycle).mean;
  const mibPerS = (ms: number) => (BULK_CHUNKS * config.rounds) / (ms / 1000);
  const rawConn = latencyStats(totals.rawConnect);
  const refConn = latencyStats(totals.netrefConnect);
  const earlyConn = latencyStats(totals.earlyConnect);
  return [
    {
      workload: 'W3 callback round trip (us; ratio = raw RTs)',
      raw: rtt,
      netref: callbackMean,
      decimals: 1,
      target: { bound: 'max', ratio: TARGETS.callback },
    },
    {
      workload: `W4 bulk 1 MiB x ${BULK_CHUNKS} echoed (MiB/s)`,
      raw: mibPerS(totals.rawBulkMs),
      netref: mibPerS(totals.netrefBulkMs),
      decimals: 0,
      target: { bound: 'min', ratio: TARGETS.bulk },
    },
    {
      workload: 'W5 ref cycle mean (us; ratio = raw RTs)',
      raw: rtt,
      netref: cycleMean,
      decimals: 1,
      target: { bound: 'max', ratio: TARGETS.cycle },
    },
    {
      workload: 'W5 server heap before/after cycles (MiB)',
      raw: heapBefore / MIB,
      netref: heapAfter / MIB,
      decimals: 2,
    },
    // The median carries the target: a rare stall of the loopback handshake (hundreds of ms) swamps the mean.
    {
      workload: 'W6 connect + first call p50 (us)',
      raw: rawConn.p50,
      netref: refConn.p50,
      decimals: 0,
      target: { bound: 'max', ratio: TARGETS.connect },
    },
    { workload: 'W6 connect + first call mean (us)', raw: rawConn.mean, netref: refConn.mean, decimals: 0 },
    // connect() waits for the peer's hello by default (so a refusal rejects it); earlyCalls sends the call with ours.
    {
      workload: 'W6 with earlyCalls p50 (us)',
      raw: rawConn.p50,
      netref: earlyConn.p50,
      decimals: 0,
      target: { bound: 'max', ratio: TARGETS.connect },
    },
    { workload: 'W6 with earlyCalls mean (us)', raw: rawConn.mean, netref: earlyConn.mean, decimals: 0 },
  ];
}

/** Times `count` connects, one after another; each connection is closed outside the timed part. */
async function timeConnects(count: number, once: () => Promise<() => Promise<void>>): Promise<Float64Array> {
  const micros = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const close = await once();
    micros[i] = (performance.now() - start) * 1000;
    await close();
  }
  return micros;
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
