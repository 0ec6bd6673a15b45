// W3–W6, the same on every transport: each beside its raw baseline measured in the same run, alternating round by
// round. Round-trip figures are divided by the raw ping-pong's mean, measured alongside. tcpWorkloads.ts and
// portWorkloads.ts say what "raw" and "connect" mean on their transport.
import { release, type Connection } from '../dist/index.js';
import type { BenchConfig } from './config.js';
import type { Row } from './report.js';
import { inFlight, latencyStats, sequential, type Call } from './workloads.js';

const MIB = 1024 * 1024;
/** W4 moves this many 1 MiB arguments per round, with a few outstanding so the transport never idles. */
export const BULK_CHUNKS = 64;
const BULK_IN_FLIGHT = 4;
/**
 * W4 runs this many untimed arguments first, raw and netref alike. Both reached their steady rate only after some
 * 300 MiB (the allocator and the collector adjust to a MiB a call): with 8, the first rounds measured that.
 */
const BULK_WARMUP_CHUNKS = 4 * BULK_CHUNKS;

export const TARGETS = { callback: 1.1, bulk: 0.9, cycle: 1.5, connect: 1.3 } as const;

/** Opens a connection (or starts a worker) and makes its first call; resolves with how to close it. */
export type OpenAndCall = () => Promise<() => Promise<void>>;

/** What W3–W6 need of a transport. */
export interface Transport {
  /** A small raw ping-pong (the round trip the W3 and W5 ratios are counted in). */
  rawCall: Call;
  /** The raw echo of `bytes`, 1 MiB; resolves with what came back. */
  rawEcho(bytes: Uint8Array): Promise<{ byteLength: number }>;
  /** W6: opens per round, raw and netref, */
  connects: number;
  /** each after this many untimed ones, as every other workload is measured warm. */
  warmupConnects: number;
  rawOpen: OpenAndCall;
  /** netref variants of W6 by row label (the first is the plain one). */
  netrefOpens: ReadonlyArray<{ label: string; open: OpenAndCall }>;
  /** Whose heap W5 reports ("server", "worker"). */
  heapOwner: string;
}

/** Runs W3–W6 for `config.rounds` rounds against `conn` (a connection to the bench service) and returns their rows. */
export async function measureLaterWorkloads(conn: Connection, t: Transport, config: BenchConfig): Promise<Row[]> {
  const root = conn.root;
  const callback = (i: number) => i + 1;
  // The same bytes for both, kept by the caller (a netref caller keeps its argument).
  const bulk = new Uint8Array(MIB).fill(7);
  const rawBulkCall: Call = async () => {
    const back = await t.rawEcho(bulk);
    if (back.byteLength < MIB) throw new Error('the raw bulk echo came back short');
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
  const rawRtt: Float64Array[] = [];
  const cycles: Float64Array[] = [];
  const rawOpens: Float64Array[] = [];
  const netrefOpens = t.netrefOpens.map(() => [] as Float64Array[]);
  let callbackUs = 0;
  let callbacks = 0;
  let rawBulkMs = 0;
  let netrefBulkMs = 0;

  await inFlight(netrefBulkCall, BULK_WARMUP_CHUNKS, BULK_IN_FLIGHT);
  await inFlight(rawBulkCall, BULK_WARMUP_CHUNKS, BULK_IN_FLIGHT);
  // The heap around the measured cycles, after their warm-up, so it shows what the cycles leave behind rather than
  // the warm-up of code and tables; the last round's pair is reported, the service warmest by then.
  let heapBefore = 0;
  let heapAfter = 0;
  for (let round = 1; round <= config.rounds; round++) {
    await sequential(t.rawCall, config.warmupCalls);
    rawRtt.push(await sequential(t.rawCall, config.sequentialCalls));
    await root.bounce(callback, config.warmupCalls);
    callbackUs += (await root.bounce(callback, config.sequentialCalls)) as number;
    callbacks += config.sequentialCalls;

    await inFlight(rawBulkCall, 8, BULK_IN_FLIGHT);
    rawBulkMs += await inFlight(rawBulkCall, BULK_CHUNKS, BULK_IN_FLIGHT);
    await inFlight(netrefBulkCall, 8, BULK_IN_FLIGHT);
    netrefBulkMs += await inFlight(netrefBulkCall, BULK_CHUNKS, BULK_IN_FLIGHT);

    await sequential(cycle, config.warmupCalls);
    heapBefore = (await root.heap()) as number;
    cycles.push(await sequential(cycle, config.sequentialCalls));
    heapAfter = (await root.heap()) as number;

    await timeOpens(t.warmupConnects, t.rawOpen);
    rawOpens.push(await timeOpens(t.connects, t.rawOpen));
    for (const [i, v] of t.netrefOpens.entries()) {
      await timeOpens(t.warmupConnects, v.open);
      netrefOpens[i]!.push(await timeOpens(t.connects, v.open));
    }
    console.log(`W3-W6 round ${round}/${config.rounds} done`);
  }

  const rtt = latencyStats(rawRtt).mean;
  const mibPerS = (ms: number) => (BULK_CHUNKS * config.rounds) / (ms / 1000);
  const rawOpen = latencyStats(rawOpens);
  const rows: Row[] = [
    {
      workload: 'W3 callback round trip (us; ratio = raw RTs)',
      raw: rtt,
      netref: callbackUs / callbacks,
      decimals: 1,
      target: { bound: 'max', ratio: TARGETS.callback },
    },
    {
      workload: `W4 bulk 1 MiB x ${BULK_CHUNKS} echoed (MiB/s)`,
      raw: mibPerS(rawBulkMs),
      netref: mibPerS(netrefBulkMs),
      decimals: 0,
      target: { bound: 'min', ratio: TARGETS.bulk },
    },
    {
      workload: 'W5 ref cycle mean (us; ratio = raw RTs)',
      raw: rtt,
      netref: latencyStats(cycles).mean,
      decimals: 1,
      target: { bound: 'max', ratio: TARGETS.cycle },
    },
    {
      workload: `W5 ${t.heapOwner} heap before/after cycles (MiB)`,
      raw: heapBefore / MIB,
      netref: heapAfter / MIB,
      decimals: 2,
    },
  ];
  // The median carries the target: a rare stall (loopback, a GC, the machine's other load) swamps the mean.
  for (const [i, v] of t.netrefOpens.entries()) {
    const stats = latencyStats(netrefOpens[i]!);
    const target = { bound: 'max', ratio: TARGETS.connect } as const;
    rows.push(
      { workload: `W6 ${v.label} p50 (us)`, raw: rawOpen.p50, netref: stats.p50, decimals: 0, target },
      { workload: `W6 ${v.label} mean (us)`, raw: rawOpen.mean, netref: stats.mean, decimals: 0 },
    );
  }
  return rows;
}

/** Times `count` opens, one after another; each is closed outside the timed part. */
async function timeOpens(count: number, open: OpenAndCall): Promise<Float64Array> {
  const micros = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const close = await open();
    micros[i] = (performance.now() - start) * 1000;
    await close();
  }
  return micros;
}
