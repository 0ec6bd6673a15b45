// The cost of security (W7): connect-to-ready time, W1 (sequential `add` latency) and W4 (1 MiB echoes, 4 in flight)
// over plain TCP, the secure channel (Secret Handshake + box-stream) and TLS, each server in its own process, measured
// in the same run and alternated so that drift hits all alike; ratios are against plain TCP. TLS certificates are
// made now with the openssl command; without it the TLS column is left out.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connect,
  generateKeys,
  randomNetworkKey,
  shsClient,
  type Connection,
  type ConnectOptions,
} from '../dist/index.js';
import type { BenchConfig } from './config.js';
import { startServer, type ServerProcess } from './serverProcess.js';
import { formatNumber, renderTable } from './report.js';
import { inFlight, latencyStats, nearestRank, sequential, type Call } from './workloads.js';

const HOST = '127.0.0.1';
const MIB = 1024 * 1024;
/** W4's shape, as over TCP and a MessagePort: 1 MiB arguments, this many outstanding. */
const BULK_IN_FLIGHT = 4;

type Kind = 'plain' | 'shs' | 'tls';
const TITLES: Record<Kind, string> = { plain: 'plain TCP', shs: 'secure channel', tls: 'TLS' };

interface Subject {
  kind: Kind;
  server: ServerProcess;
  options: ConnectOptions;
}

/** What one kind of connection measured, over all rounds. */
interface Measured {
  handshakeMs: number[];
  latency: Float64Array[];
  bulkMs: number;
  bulkChunks: number;
}

/** Runs the secure-channel workloads and prints their table. Leaves no server or temp file behind. */
export async function runSecureBench(config: BenchConfig): Promise<void> {
  const connects = count('BENCH_CONNECTS', 50, config.scale, 10);
  // 64 MiB per round at scale 1 as W4 elsewhere; fewer at a smaller scale: the secure channel moves only 20-40 MiB/s.
  const chunks = count('BENCH_SECURE_CHUNKS', 64, config.scale, 8);
  console.log();
  console.log(
    `security (W7): connect to ready (${connects} connects each), W1 sequential add ` +
      `(${config.warmupCalls} warm-up + ${config.sequentialCalls} calls per round) and W4 bulk ` +
      `(${chunks} x 1 MiB echoed per round, ${BULK_IN_FLIGHT} in flight), plain TCP beside the secure channel ` +
      '(shsServer/shsClient) and TLS (tlsAuthenticator/tls), each server in its own process',
  );
  const dir = mkdtempSync(join(tmpdir(), 'netref-bench-'));
  const subjects: Subject[] = [];
  try {
    const networkKey = randomNetworkKey();
    const serverKeys = generateKeys();
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const tls = makeCertificate(dir);
    if (!tls) console.log('(the openssl command is not installed: no TLS column)');
    const env = (auth: Kind): NodeJS.ProcessEnv => ({
      ...process.env,
      NETREF_BENCH_AUTH: auth,
      NETREF_BENCH_NETWORK_KEY: b64(networkKey),
      NETREF_BENCH_PUBLIC_KEY: b64(serverKeys.publicKey),
      NETREF_BENCH_SECRET_KEY: b64(serverKeys.secretKey),
      ...(tls ? { NETREF_BENCH_TLS_KEY: tls.keyPath, NETREF_BENCH_TLS_CERT: tls.certPath } : {}),
    });
    const kinds: Kind[] = tls ? ['plain', 'shs', 'tls'] : ['plain', 'shs'];
    const started = await Promise.allSettled(kinds.map((k) => startServer('secureServer.ts', 20_000, env(k))));
    started.forEach((s, i) => {
      if (s.status === 'fulfilled') {
        const kind = kinds[i]!;
        const options: ConnectOptions =
          kind === 'shs'
            ? { auth: shsClient({ networkKey, serverKey: serverKeys.publicKey, keys: generateKeys() }) }
            : kind === 'tls'
              ? { tls: { ca: tls!.cert } }
              : {};
        subjects.push({ kind, server: s.value, options });
      }
    });
    for (const s of started) if (s.status === 'rejected') throw s.reason;

    const measured = new Map<Kind, Measured>(
      subjects.map((s) => [s.kind, { handshakeMs: [], latency: [], bulkMs: 0, bulkChunks: 0 }]),
    );
    const conns = new Map<Kind, Connection>();
    try {
      for (const s of subjects) conns.set(s.kind, await checked(s));
      const payload = new Uint8Array(MIB);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
      const add = (k: Kind): Call => {
        const root = conns.get(k)!.root;
        return (i) => root.add(i, 1);
      };
      const bulk = (k: Kind): Call => {
        const conn = conns.get(k)!;
        return () => echo(conn, payload);
      };
      for (const s of subjects) for (let i = 0; i < 5; i++) await (await connectTo(s)).close(); // warm-up
      for (let round = 0; round < config.rounds; round++) {
        for (const s of subjects) {
          for (let i = 0; i < Math.ceil(connects / config.rounds); i++) {
            const t0 = performance.now();
            const conn = await connectTo(s);
            measured.get(s.kind)!.handshakeMs.push(performance.now() - t0);
            await conn.close();
          }
        }
        for (const s of subjects) {
          await sequential(add(s.kind), config.warmupCalls);
          measured.get(s.kind)!.latency.push(await sequential(add(s.kind), config.sequentialCalls));
        }
        for (const s of subjects) {
          const m = measured.get(s.kind)!;
          await inFlight(bulk(s.kind), 8, BULK_IN_FLIGHT);
          m.bulkMs += await inFlight(bulk(s.kind), chunks, BULK_IN_FLIGHT);
          m.bulkChunks += chunks;
        }
        console.log(`security round ${round + 1}/${config.rounds} done`);
      }
    } finally {
      await Promise.allSettled([...conns.values()].map((c) => c.close()));
    }
    console.log();
    console.log(formatTable(kinds, rowsOf(measured, chunks)));
  } finally {
    await Promise.allSettled(subjects.map((s) => s.server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

function connectTo(s: Subject): Promise<Connection> {
  return connect(HOST, s.server.port, s.options);
}

/** Echoes `payload` once and checks it came back whole. */
async function echo(conn: Connection, payload: Uint8Array): Promise<void> {
  const back = (await (conn.root as { echo(x: Uint8Array): Promise<Uint8Array> }).echo(payload)) as Uint8Array;
  if (back.byteLength !== payload.byteLength || back[12345] !== payload[12345]) {
    throw new Error('the 1 MiB echo did not come back whole');
  }
}

/** A connection of `s`, tried once first so a broken server fails loudly instead of benchmarking errors. */
async function checked(s: Subject): Promise<Connection> {
  const conn = await connectTo(s);
  const back = await (conn.root as { echo(x: string): Promise<string> }).echo('ping');
  if (back !== 'ping') throw new Error(`${TITLES[s.kind]}: echo('ping') returned ${String(back)}`);
  const sum: unknown = await conn.root.add(41, 1);
  if (sum !== 42) throw new Error(`${TITLES[s.kind]}: add(41, 1) returned ${String(sum)}`);
  return conn;
}

/** A self-signed EC certificate for 127.0.0.1 made with openssl in `dir`, or undefined without openssl. */
function makeCertificate(dir: string): { keyPath: string; certPath: string; cert: Buffer } | undefined {
  if (spawnSync('openssl', ['version']).status !== 0) return undefined;
  const keyPath = join(dir, 'server.key');
  const certPath = join(dir, 'server.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath,
      '-out', certPath, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  ); // prettier-ignore
  return { keyPath, certPath, cert: readFileSync(certPath) };
}

/** BENCH_NAME, else `fallback`, times the scale, at least `floor`. */
function count(name: string, fallback: number, scale: number, floor: number): number {
  const text = process.env[name];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${text}`);
  return Math.max(floor, Math.round(value * scale));
}

function percentile(values: readonly number[], q: number): number {
  return nearestRank(Float64Array.from(values).sort(), q);
}

/** One line of the table: a figure for each kind. The issue sets no target for W7, so every row says `info`. */
interface SecureRow {
  workload: string;
  value: (k: Kind) => number;
  decimals: number;
}

function rowsOf(measured: Map<Kind, Measured>, chunks: number): SecureRow[] {
  const m = (k: Kind) => measured.get(k)!;
  return [
    { workload: 'connect to ready, median (ms)', value: (k) => percentile(m(k).handshakeMs, 0.5), decimals: 2 },
    { workload: 'connect to ready, p95 (ms)', value: (k) => percentile(m(k).handshakeMs, 0.95), decimals: 2 },
    { workload: 'W7/W1 sequential mean (us/call)', value: (k) => latencyStats(m(k).latency).mean, decimals: 1 },
    { workload: 'W7/W1 sequential p50 (us/call)', value: (k) => latencyStats(m(k).latency).p50, decimals: 1 },
    {
      workload: `W7/W4 bulk 1 MiB x ${chunks} echoed (MiB/s)`,
      value: (k) => m(k).bulkChunks / (m(k).bulkMs / 1000),
      decimals: 0,
    },
  ];
}

/** In the style of report.ts: numbers right-aligned, then a ratio to plain TCP per secured kind, target and met. */
function formatTable(kinds: Kind[], rows: readonly SecureRow[]): string {
  const others = kinds.filter((k) => k !== 'plain');
  const headers = [
    'workload',
    ...kinds.map((k) => TITLES[k]),
    ...others.map((k) => `${TITLES[k]} / plain`),
    'target',
    'met',
  ];
  const cells = rows.map((row) => {
    const plain = row.value('plain');
    return [
      row.workload,
      ...kinds.map((k) => formatNumber(row.value(k), row.decimals)),
      ...others.map((k) => `${(row.value(k) / plain).toFixed(2)}x`),
      '-',
      'info',
    ];
  });
  // Text columns (the workload, target, met) read left to right; numbers and ratios line up on the right.
  return renderTable(headers, cells, (c) => c !== 0 && c < headers.length - 2);
}
