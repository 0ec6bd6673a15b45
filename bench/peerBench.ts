// netref beside the peers it is compared with (birpc and Cap'n Web over TCP, comlink, birpc and Cap'n Web over a
// MessagePort to a worker), W1/W2 and, where the peer can call back, W3; all measured in the same run, alternating.
import net from 'node:net';
import { MessageChannel, Worker } from 'node:worker_threads';
import { createBirpc } from 'birpc';
import { RpcSession, newMessagePortRpcSession } from 'capnweb';
import * as Comlink from 'comlink';
import comlinkNodeAdapter from 'comlink/dist/umd/node-adapter.js';
import { connect, connectThread } from '../dist/index.js';
import { IN_FLIGHT, type BenchConfig } from './config.js';
import { lineTransport, onLines } from './lineFraming.js';
import { formatNumber, renderTable } from './report.js';
import { startServer, type ServerProcess } from './serverProcess.js';
import { inFlight, inFlightWarmup, latencyStats, sequential, type Call } from './workloads.js';

const HOST = '127.0.0.1';
// The adapter is CommonJS whose module.exports is the function, which Node hands over as the default import; its
// types describe an ES default export instead, hence the cast.
const nodeEndpoint = comlinkNodeAdapter as unknown as (worker: Worker) => Comlink.Endpoint;
type Transport = 'TCP' | 'MessagePort';

/** One library on one transport: the calls the workloads make, and how to let go of it. */
interface Subject {
  library: string;
  transport: Transport;
  add: Call;
  /** Has the server call back `count` times; resolves with the microseconds that took, timed by the server. */
  bounce?: (count: number) => Promise<number>;
  close(): Promise<void>;
}

interface Totals {
  latency: Float64Array[];
  calls: number;
  ms: number;
  callbackUs: number;
  callbacks: number;
}

/** Runs the comparison and prints its table. Leaves no child or worker behind, also on failure. */
export async function runPeerBench(config: BenchConfig): Promise<void> {
  console.log();
  console.log("peers: netref beside birpc, Cap'n Web (TCP: JSON lines, server in its own process) and comlink, birpc,");
  console.log("Cap'n Web (MessagePort to a worker); W1 mean latency, W2 at 64 in flight, W3 callback round trip");
  const servers: ServerProcess[] = [];
  const subjects: Subject[] = [];
  try {
    const started = await Promise.allSettled([
      startServer('netrefServer.ts'),
      startServer('peerServer.ts', 20_000, { ...process.env, PEER: 'birpc' }),
      startServer('peerServer.ts', 20_000, { ...process.env, PEER: 'capnweb' }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [netrefServer, birpcServer, capnwebServer] = servers as [ServerProcess, ServerProcess, ServerProcess];
    const makers: Array<() => Promise<Subject>> = [
      () => netrefTcp(netrefServer.port),
      () => birpcTcp(birpcServer.port),
      () => capnwebTcp(capnwebServer.port),
      netrefPort,
      comlinkPort,
      birpcPort,
      capnwebPort,
    ];
    for (const make of makers) {
      const subject = await make();
      subjects.push(subject);
      // Each tried once first, so a broken peer fails loudly instead of benchmarking errors.
      const sum: unknown = await subject.add(41);
      if (sum !== 42) throw new Error(`${subject.library} over ${subject.transport}: add(41, 1) gave ${String(sum)}`);
    }
    const totals = await measure(subjects, config);
    console.log();
    console.log(formatPeerTable(subjects, totals));
  } finally {
    await Promise.allSettled(subjects.map((s) => s.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

async function measure(subjects: readonly Subject[], config: BenchConfig): Promise<Map<Subject, Totals>> {
  const totals = new Map(
    subjects.map((s) => [s, { latency: [], calls: 0, ms: 0, callbackUs: 0, callbacks: 0 } as Totals]),
  );
  // Fewer calls than the main tables: seven subjects, some of them far slower.
  const seq = Math.max(200, Math.round(config.sequentialCalls / 2));
  const flight = Math.max(IN_FLIGHT * 10, Math.round(config.inFlightCalls / 5));
  const warm = Math.max(100, Math.round(config.warmupCalls / 2));
  for (let round = 1; round <= config.rounds; round++) {
    for (const s of subjects) {
      const t = totals.get(s)!;
      await sequential(s.add, warm);
      t.latency.push(await sequential(s.add, seq));
      await inFlight(s.add, inFlightWarmup(flight, warm), IN_FLIGHT);
      t.ms += await inFlight(s.add, flight, IN_FLIGHT);
      t.calls += flight;
      if (s.bounce) {
        await s.bounce(warm);
        t.callbackUs += await s.bounce(seq);
        t.callbacks += seq;
      }
    }
    console.log(`peers round ${round}/${config.rounds} done`);
  }
  return totals;
}

function formatPeerTable(subjects: readonly Subject[], totals: Map<Subject, Totals>): string {
  const figures = subjects.map((s) => {
    const t = totals.get(s)!;
    return {
      s,
      w1: latencyStats(t.latency).mean,
      w2: t.calls / (t.ms / 1000),
      w3: t.callbacks > 0 ? t.callbackUs / t.callbacks : undefined,
    };
  });
  const netref = (transport: Transport) =>
    figures.find((f) => f.s.library === 'netref' && f.s.transport === transport)!;
  const header = [
    'library',
    'transport',
    'W1 mean (us)',
    'W1 / netref',
    'W2 (calls/s)',
    'W2 / netref',
    'W3 (us)',
    'W3 / netref',
  ];
  const rows = figures.map((f) => {
    const n = netref(f.s.transport);
    return [
      f.s.library,
      f.s.transport,
      formatNumber(f.w1, 1),
      `${(f.w1 / n.w1).toFixed(2)}x`,
      formatNumber(f.w2, 0),
      `${(f.w2 / n.w2).toFixed(2)}x`,
      f.w3 === undefined ? '-' : formatNumber(f.w3, 1),
      f.w3 === undefined || n.w3 === undefined ? '-' : `${(f.w3 / n.w3).toFixed(2)}x`,
    ];
  });
  return [
    renderTable(header, rows, (c) => c >= 2),
    '(netref is ahead where a W1 or W3 ratio is above 1.00x and where a W2 ratio is below 1.00x)',
  ].join('\n');
}

async function netrefTcp(port: number): Promise<Subject> {
  const conn = await connect(HOST, port);
  const root = conn.root;
  const inc = (i: number) => i + 1;
  return {
    library: 'netref',
    transport: 'TCP',
    add: (i) => root.add(i, 1),
    bounce: async (count) => (await root.bounce(inc, count)) as number,
    close: () => conn.close(),
  };
}

async function netrefPort(): Promise<Subject> {
  // execArgv: [] keeps this process's `--import tsx` out of the worker: the service is plain JavaScript.
  const conn = await connectThread(new URL('./threadService.mjs', import.meta.url), { execArgv: [] });
  const root = conn.root;
  const inc = (i: number) => i + 1;
  return {
    library: 'netref',
    transport: 'MessagePort',
    add: (i) => root.add(i, 1),
    bounce: async (count) => (await root.bounce(inc, count)) as number,
    close: () => conn.close(),
  };
}

interface PeerApi {
  add(a: number, b: number): Promise<number>;
  bounce(...args: any[]): Promise<number>;
}

function connectSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port, noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
  });
}

function closeSocket(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else {
      socket.once('close', () => resolve());
      socket.destroy();
    }
  });
}

async function birpcTcp(port: number): Promise<Subject> {
  const socket = await connectSocket(port);
  const rpc = createBirpc<PeerApi, object>(
    { inc: (i: number) => i + 1 },
    {
      post: (data: string) => socket.write(`${data}\n`),
      on: (fn) => onLines(socket, fn),
      serialize: JSON.stringify,
      deserialize: JSON.parse,
      timeout: 60_000,
    },
  );
  return {
    library: 'birpc',
    transport: 'TCP',
    add: (i) => rpc.add(i, 1),
    bounce: (count) => rpc.bounce(count),
    close: async () => {
      rpc.$close();
      await closeSocket(socket);
    },
  };
}

async function capnwebTcp(port: number): Promise<Subject> {
  const socket = await connectSocket(port);
  const session = new RpcSession<any>(lineTransport(socket));
  const api = session.getRemoteMain() as unknown as PeerApi;
  const inc = (i: number) => i + 1;
  return {
    library: "Cap'n Web",
    transport: 'TCP',
    add: (i) => api.add(i, 1),
    bounce: (count) => api.bounce(inc, count),
    close: () => closeSocket(socket),
  };
}

async function startWorker(peer: string): Promise<Worker> {
  // No tsx in the worker (execArgv: []): the peer's service is plain JavaScript.
  const worker = new Worker(new URL('./peerWorker.mjs', import.meta.url), { execArgv: [], workerData: { peer } });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  return worker;
}

async function stopWorker(worker: Worker): Promise<void> {
  await worker.terminate();
}

async function comlinkPort(): Promise<Subject> {
  const worker = await startWorker('comlink');
  const api = Comlink.wrap<PeerApi>(nodeEndpoint(worker));
  const inc = Comlink.proxy((i: number) => i + 1);
  return {
    library: 'comlink',
    transport: 'MessagePort',
    add: (i) => api.add(i, 1),
    bounce: (count) => api.bounce(inc, count),
    close: async () => {
      api[Comlink.releaseProxy]();
      await stopWorker(worker);
    },
  };
}

async function birpcPort(): Promise<Subject> {
  const worker = await startWorker('birpc');
  const rpc = createBirpc<PeerApi, object>(
    { inc: (i: number) => i + 1 },
    { post: (data) => worker.postMessage(data), on: (fn) => worker.on('message', fn), timeout: 60_000 },
  );
  return {
    library: 'birpc',
    transport: 'MessagePort',
    add: (i) => rpc.add(i, 1),
    bounce: (count) => rpc.bounce(count),
    close: async () => {
      rpc.$close();
      await stopWorker(worker);
    },
  };
}

async function capnwebPort(): Promise<Subject> {
  const worker = await startWorker('capnweb');
  const { port1, port2 } = new MessageChannel();
  worker.postMessage(port2, [port2]);
  const api = newMessagePortRpcSession<any>(port1 as any) as unknown as PeerApi;
  const inc = (i: number) => i + 1;
  return {
    library: "Cap'n Web",
    transport: 'MessagePort',
    add: (i) => api.add(i, 1),
    bounce: (count) => api.bounce(inc, count),
    close: async () => {
      port1.close();
      await stopWorker(worker);
    },
  };
}
