/** One call of the workload under test; `i` is its index, so calls differ as real ones would. */
export type Call = (i: number) => PromiseLike<unknown>;

/** Awaits `count` calls one after another; returns each call's duration in microseconds. */
export async function sequential(call: Call, count: number): Promise<Float64Array> {
  const micros = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call(i);
    micros[i] = (performance.now() - start) * 1000;
  }
  return micros;
}

/**
 * Untimed calls in flight before W2's timed ones: as many as are timed. netref's rate at 64 in flight rises over
 * about the first 100,000 calls, while the pieces a burst leaves in settle into two halves (by 10,000-call steps on
 * this machine: 63,000, 179,000 … 420,000 calls/s; flat at about 210,000 without the split), and a short warm-up
 * measured mostly that ramp.
 */
export function inFlightWarmup(timed: number, warmupCalls: number): number {
  return Math.max(timed, warmupCalls);
}

/**
 * Makes `count` calls keeping exactly `depth` outstanding: each lane starts its next call as soon as its previous
 * one resolves. Returns the elapsed milliseconds, first call sent to last reply.
 */
export async function inFlight(call: Call, count: number, depth: number): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count) await call(next++);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(depth, count) }, lane));
  return performance.now() - start;
}

export interface LatencyStats {
  mean: number;
  p50: number;
  p99: number;
}

export function latencyStats(samples: readonly Float64Array[]): LatencyStats {
  const total = samples.reduce((n, s) => n + s.length, 0);
  const all = new Float64Array(total);
  let offset = 0;
  for (const s of samples) {
    all.set(s, offset);
    offset += s.length;
  }
  all.sort();
  let sum = 0;
  for (const v of all) sum += v;
  return { mean: sum / total, p50: nearestRank(all, 0.5), p99: nearestRank(all, 0.99) };
}

/** Nearest-rank percentile of sorted values. */
export function nearestRank(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
