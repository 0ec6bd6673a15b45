import { connect, release, type Connection } from '../../src/index.js';
import { collect } from './gc.js';
import { startPeer } from './peerProcess.js';

/** What one soak measured: heap of both ends at the baseline and at the end, after full collections. */
export interface SoakResult {
  calls: number;
  ms: number;
  clientHeapBefore: number;
  clientHeapAfter: number;
  serverHeapBefore: number;
  serverHeapAfter: number;
  /** Items the server still holds once the client released everything (should be 0). */
  serverAlive: number;
}

interface Item {
  get(): Promise<number>;
}
interface Peer {
  make(n: number): Promise<Item>;
  alive(): Promise<number>;
  memory(): Promise<{ heapUsed: number }>;
}

/**
 * `calls` iterations, `lanes` at a time, against a peer process over TCP: get a new object by reference, call it,
 * release it. Heaps are measured after a warm-up (the baseline) and at the end, both after full collections.
 */
export async function soak(calls: number, lanes = 32, progress?: (done: number) => void): Promise<SoakResult> {
  const peer = await startPeer();
  let conn: Connection | undefined;
  try {
    conn = await connect('127.0.0.1', peer.port);
    const root = conn.root as Peer;
    let next = 0;
    const run = async (count: number): Promise<void> => {
      const end = next + count;
      const lane = async (): Promise<void> => {
        while (next < end) {
          const n = next++;
          const item = await root.make(n);
          if ((await item.get()) !== n) throw new Error(`item ${n} answered wrong`);
          release(item);
          if (progress && n % 10_000 === 0) progress(n);
        }
      };
      await Promise.all(Array.from({ length: lanes }, lane));
    };
    const settle = async (): Promise<{ client: number; server: number; alive: number }> => {
      await collect(4);
      // Releases are batched: wait until the server has let go of every item before measuring it.
      let alive = await root.alive();
      const end = Date.now() + 10_000;
      while (alive > 0 && Date.now() < end) {
        await collect(1);
        alive = await root.alive();
      }
      const server = (await root.memory()).heapUsed;
      await collect(4);
      return { client: process.memoryUsage().heapUsed, server, alive };
    };
    const warm = Math.min(5000, Math.ceil(calls / 10));
    await run(warm);
    const before = await settle();
    const t0 = performance.now();
    await run(calls - warm);
    const ms = performance.now() - t0;
    const after = await settle();
    return {
      calls,
      ms,
      clientHeapBefore: before.client,
      clientHeapAfter: after.client,
      serverHeapBefore: before.server,
      serverHeapAfter: after.server,
      serverAlive: after.alive,
    };
  } finally {
    await conn?.close();
    await peer.kill();
  }
}
