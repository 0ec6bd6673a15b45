// The same workloads over a MessagePort: netref's connectThread to a service in a worker thread, beside a raw
// MessagePort ping-pong with an echoing worker, measured in the same run, alternating like the TCP ones (W1/W2
// here, then W3-W6 in portWorkloads.ts against the same two workers).
import type { Connection } from '../dist/index.js';
import { IN_FLIGHT, RAW_PAYLOAD_BYTES, type BenchConfig } from './config.js';
import { connectService, measurePortWorkloads } from './portWorkloads.js';
import { RawPortClient } from './rawPortClient.js';
import { formatTable, type Row } from './report.js';
import { inFlight, inFlightWarmup, latencyStats, sequential, type Call } from './workloads.js';

const LATENCY_TARGET = 1.1;
const THROUGHPUT_TARGET = 0.5;

/** Runs the MessagePort workloads, prints their tables and returns their rows. Leaves no worker behind. */
export async function runThreadBench(config: BenchConfig): Promise<Row[]> {
  console.log();
  console.log('over a MessagePort: netref connectThread against a raw MessagePort ping-pong with a worker');
  let raw: RawPortClient | undefined;
  let conn: Connection | undefined;
  try {
    raw = await RawPortClient.start();
    conn = await connectService();
    // Each path tried once first, so a broken worker fails loudly instead of benchmarking errors.
    const port = raw;
    const rawCall: Call = (i) => port.call(i, RAW_PAYLOAD_BYTES);
    const echoed = await port.call(41, RAW_PAYLOAD_BYTES);
    if (echoed.byteLength !== RAW_PAYLOAD_BYTES || new DataView(echoed.buffer).getUint32(0) !== 41) {
      throw new Error('the raw MessagePort worker did not echo the frame back');
    }
    const root = conn.root;
    const sum: unknown = await root.add(41, 1);
    if (sum !== 42) throw new Error(`netref add(41, 1) in a worker returned ${String(sum)}`);
    const rows = await measure(rawCall, (i) => root.add(i, 1), config);
    console.log();
    console.log(formatTable(rows));
    console.log();
    console.log(
      'W3-W6 over a MessagePort: callback, bulk, reference cycle, worker start; raw baselines from the same workers',
    );
    const more = await measurePortWorkloads(raw, conn, config);
    console.log();
    console.log(formatTable(more));
    return [...rows, ...more];
  } finally {
    await Promise.allSettled([raw?.close(), conn?.close()]);
  }
}

async function measure(rawCall: Call, netrefCall: Call, config: BenchConfig): Promise<Row[]> {
  const subjects = [
    { name: 'raw', call: rawCall },
    { name: 'netref', call: netrefCall },
  ] as const;
  const latency = { raw: [] as Float64Array[], netref: [] as Float64Array[] };
  const flight = { raw: { calls: 0, ms: 0 }, netref: { calls: 0, ms: 0 } };
  for (let round = 1; round <= config.rounds; round++) {
    for (const s of subjects) {
      await sequential(s.call, config.warmupCalls);
      latency[s.name].push(await sequential(s.call, config.sequentialCalls));
    }
    for (const s of subjects) {
      await inFlight(s.call, inFlightWarmup(config.inFlightCalls, config.warmupCalls), IN_FLIGHT);
      flight[s.name].ms += await inFlight(s.call, config.inFlightCalls, IN_FLIGHT);
      flight[s.name].calls += config.inFlightCalls;
    }
    console.log(`MessagePort round ${round}/${config.rounds} done`);
  }
  const rawLat = latencyStats(latency.raw);
  const refLat = latencyStats(latency.netref);
  const rate = (t: { calls: number; ms: number }) => t.calls / (t.ms / 1000);
  return [
    {
      workload: 'W1 sequential mean (us/call)',
      raw: rawLat.mean,
      netref: refLat.mean,
      decimals: 1,
      target: { bound: 'max', ratio: LATENCY_TARGET },
    },
    { workload: 'W1 sequential p50 (us/call)', raw: rawLat.p50, netref: refLat.p50, decimals: 1 },
    { workload: 'W1 sequential p99 (us/call)', raw: rawLat.p99, netref: refLat.p99, decimals: 1 },
    {
      workload: `W2 ${IN_FLIGHT} in flight (calls/s)`,
      raw: rate(flight.raw),
      netref: rate(flight.netref),
      decimals: 0,
      target: { bound: 'min', ratio: THROUGHPUT_TARGET },
    },
  ];
}
