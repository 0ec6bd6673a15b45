/** How much work one bench run does. Defaults keep a full run (all tables) under two minutes on 2 cores. */
export interface BenchConfig {
  scale: number;
  /** Calls made before each measurement, so the JIT and the sockets are warm. */
  warmupCalls: number;
  /** Sequential calls measured per round, per implementation. */
  sequentialCalls: number;
  /** Calls measured per round, per implementation, in the in-flight workload. */
  inFlightCalls: number;
  /** Raw and netref alternate this many times, so drift (CPU frequency, other load) hits both alike. */
  rounds: number;
  /** Whole runs of the sections with targets (tcp, thread); more than one adds a table of medians. */
  runs: number;
  /** The sections to run (all unless `--only` / BENCH_ONLY names some). */
  sections: ReadonlySet<Section>;
}

/** The parts of a bench run, in the order they run; `--only tcp,peers` runs just those. */
export const SECTIONS = ['tcp', 'thread', 'secure', 'peers'] as const;
export type Section = (typeof SECTIONS)[number];

/** Outstanding calls in the throughput workload; fixed because the target is stated for it. */
export const IN_FLIGHT = 64;

/** Size of the raw baseline's payload, about what a small netref call puts on the wire. */
export const RAW_PAYLOAD_BYTES = 16;

const DEFAULTS = { warmupCalls: 2_000, sequentialCalls: 10_000, inFlightCalls: 100_000, rounds: 3 };

/**
 * Reads BENCH_SCALE, BENCH_WARMUP, BENCH_SEQUENTIAL, BENCH_IN_FLIGHT, BENCH_ROUNDS, BENCH_ONLY, BENCH_RUNS, and the
 * same as `--scale=0.1`, `--warmup 500`, `--only tcp,thread`, `--runs 5`… on the command line (which wins). Scale multiplies the three
 * counts.
 */
export function readConfig(argv: readonly string[] = process.argv.slice(2), env = process.env): BenchConfig {
  const args = parseArgs(argv);
  const pick = (flag: string, envName: string): number | undefined => {
    const text = args.get(flag) ?? env[envName];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`${flag} / ${envName} must be a positive number, got ${text}`);
    return value;
  };
  const scale = pick('scale', 'BENCH_SCALE') ?? 1;
  const only = args.get('only') ?? env.BENCH_ONLY;
  const sections = new Set<Section>();
  for (const name of only ? only.split(',') : SECTIONS) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new Error(`--only / BENCH_ONLY names '${name}'; the sections are ${SECTIONS.join(', ')}`);
    }
    sections.add(name as Section);
  }
  // A floor keeps a tiny scale from measuring nothing (p99 of 3 samples means little).
  const count = (value: number, floor: number) => Math.max(floor, Math.round(value * scale));
  return {
    scale,
    warmupCalls: count(pick('warmup', 'BENCH_WARMUP') ?? DEFAULTS.warmupCalls, 100),
    sequentialCalls: count(pick('sequential', 'BENCH_SEQUENTIAL') ?? DEFAULTS.sequentialCalls, 200),
    inFlightCalls: count(pick('in-flight', 'BENCH_IN_FLIGHT') ?? DEFAULTS.inFlightCalls, IN_FLIGHT * 10),
    rounds: Math.max(1, Math.round(pick('rounds', 'BENCH_ROUNDS') ?? DEFAULTS.rounds)),
    runs: Math.max(1, Math.round(pick('runs', 'BENCH_RUNS') ?? 1)),
    sections,
  };
}

function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq >= 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      out.set(arg.slice(2), value);
    }
  }
  for (const key of out.keys()) {
    if (!['scale', 'warmup', 'sequential', 'in-flight', 'rounds', 'only', 'runs'].includes(key))
      throw new Error(`unknown option --${key}`);
  }
  return out;
}
