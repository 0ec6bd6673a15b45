// `npm run bench`: netref against a raw length-prefixed TCP ping-pong, each server in its own process (W1/W2, then
// W3-W6 against the same servers); then over a MessagePort; then the cost of the secure channel and TLS beside plain
// TCP; then netref beside the peers birpc, comlink and Cap'n Web. Results and how to read them: bench/RESULTS.md.
import os from 'node:os';
import { connect, type Connection } from '../dist/index.js';
import { IN_FLIGHT, RAW_PAYLOAD_BYTES, readConfig, type BenchConfig } from './config.js';
import { makeFrame } from './frames.js';
import { RawClient } from './rawClient.js';
import { formatTable, medianRows, type Row } from './report.js';
import { startServer, type ServerProcess } from './serverProcess.js';
import { runPeerBench } from './peerBench.js';
import { runSecureBench } from './secureBench.js';
import { measureTcpWorkloads } from './tcpWorkloads.js';
import { runThreadBench } from './threadBench.js';
import { inFlight, inFlightWarmup, latencyStats, sequential, type Call } from './workloads.js';

const HOST = '127.0.0.1';
const LATENCY_TARGET = 1.1;
const THROUGHPUT_TARGET = 0.9;

interface Subject {
  name: 'raw' | 'netref';
  call: Call;
}

async function main(): Promise<void> {
  const config = readConfig();
  const cpus = os.cpus();
  console.log('netref measured as users run it: the built package in dist/ (npm ci builds it; npm run build rebuilds)');
  console.log(`node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${os.platform()}`);
  console.log(
    `per round and implementation: ${config.warmupCalls} warm-up + ${config.sequentialCalls} sequential calls, ` +
      `${inFlightWarmup(config.inFlightCalls, config.warmupCalls)} warm-up + ${config.inFlightCalls} calls at ${IN_FLIGHT} in flight; ` +
      `${config.rounds} rounds (scale ${config.scale})`,
  );

  // The sections with targets run `runs` times; the targets are judged on the median of each run's ratio.
  const runs: { tcp: Row[][]; thread: Row[][] } = { tcp: [], thread: [] };
  for (let run = 1; run <= config.runs; run++) {
    if (config.runs > 1) console.log(`\n=== run ${run} of ${config.runs} ===`);
    if (config.sections.has('tcp')) runs.tcp.push(await runTcpBench(config));
    if (config.sections.has('thread')) runs.thread.push(await runThreadBench(config));
  }
  if (config.runs > 1) {
    for (const [title, tables] of [
      ['TCP', runs.tcp],
      ['MessagePort', runs.thread],
    ] as const) {
      if (tables.length === 0) continue;
      console.log();
      console.log(`${title}: medians of ${tables.length} runs (ratio = median of the runs' ratios)`);
      console.log(formatTable(medianRows(tables)));
    }
  }
  if (config.sections.has('secure')) await runSecureBench(config);
  if (config.sections.has('peers')) await runPeerBench(config);
}

/** W1/W2 against the raw TCP server, then W3-W6 against the same two server processes; returns every row. */
async function runTcpBench(config: BenchConfig): Promise<Row[]> {
  const servers: ServerProcess[] = [];
  let raw: RawClient | undefined;
  let conn: Connection | undefined;
  try {
    // Started together to save a second, but settled separately so one failing never orphans the other.
    const started = await Promise.allSettled([startServer('rawServer.ts'), startServer('netrefServer.ts')]);
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [rawServer, netrefServer] = servers as [ServerProcess, ServerProcess];
    raw = await RawClient.connect(HOST, rawServer.port);
    conn = await connect(HOST, netrefServer.port);
    const subjects = await checkedSubjects(raw, conn);
    const rows = await measure(subjects, config);
    console.log();
    console.log(formatTable(rows));
    console.log();
    console.log('W3-W6 over TCP: callback, bulk, reference cycle, connect; raw baselines from the same servers');
    const more = await measureTcpWorkloads(raw, conn, { raw: rawServer.port, netref: netrefServer.port }, config);
    console.log();
    console.log(formatTable(more));
    return [...rows, ...more];
  } finally {
    await Promise.allSettled([raw?.close(), conn?.close()]);
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

/** The two call paths, each tried once first so a broken server fails loudly instead of benchmarking errors. */
async function checkedSubjects(raw: RawClient, conn: Connection): Promise<[Subject, Subject]> {
  const rawCall: Call = (i) => raw.call(makeFrame(i, RAW_PAYLOAD_BYTES));
  const echoed = await raw.call(makeFrame(41, RAW_PAYLOAD_BYTES));
  if (echoed.length !== 4 + RAW_PAYLOAD_BYTES || echoed.readUInt32BE(4) !== 41) {
    throw new Error('the raw server did not echo the frame back');
  }
  const root = conn.root;
  const netrefCall: Call = (i) => root.add(i, 1);
  const sum: unknown = await root.add(41, 1);
  if (sum !== 42) throw new Error(`netref add(41, 1) returned ${String(sum)}`);
  return [
    { name: 'raw', call: rawCall },
    { name: 'netref', call: netrefCall },
  ];
}

async function measure(subjects: readonly Subject[], config: BenchConfig): Promise<Row[]> {
  const latency = new Map(subjects.map((s) => [s.name, [] as Float64Array[]]));
  const flight = new Map(subjects.map((s) => [s.name, { calls: 0, ms: 0 }]));
  for (let round = 1; round <= config.rounds; round++) {
    for (const s of subjects) {
      await sequential(s.call, config.warmupCalls);
      latency.get(s.name)!.push(await sequential(s.call, config.sequentialCalls));
    }
    for (const s of subjects) {
      await inFlight(s.call, inFlightWarmup(config.inFlightCalls, config.warmupCalls), IN_FLIGHT);
      const total = flight.get(s.name)!;
      total.ms += await inFlight(s.call, config.inFlightCalls, IN_FLIGHT);
      total.calls += config.inFlightCalls;
    }
    console.log(`round ${round}/${config.rounds} done`);
  }
  const rawLat = latencyStats(latency.get('raw')!);
  const refLat = latencyStats(latency.get('netref')!);
  const rate = (name: Subject['name']) => {
    const t = flight.get(name)!;
    return t.calls / (t.ms / 1000);
  };
  const max = { bound: 'max', ratio: LATENCY_TARGET } as const;
  return [
    { workload: 'W1 sequential mean (us/call)', raw: rawLat.mean, netref: refLat.mean, decimals: 1, target: max },
    { workload: 'W1 sequential p50 (us/call)', raw: rawLat.p50, netref: refLat.p50, decimals: 1 },
    { workload: 'W1 sequential p99 (us/call)', raw: rawLat.p99, netref: refLat.p99, decimals: 1 },
    {
      workload: `W2 ${IN_FLIGHT} in flight (calls/s)`,
      raw: rate('raw'),
      netref: rate('netref'),
      decimals: 0,
      target: { bound: 'min', ratio: THROUGHPUT_TARGET },
    },
  ];
}

main().catch((error: unknown) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});
