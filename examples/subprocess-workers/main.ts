// The subprocess-workers example (DESIGN §8, use 2): a parent spawns a pool of subprocess workers with
// connectSubproc and spreads a CPU-heavy job over them, then shows the speed-up over one worker process.
// Run it from the repository root with `npm run example subprocess-workers` (add a number to set the job size).
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectSubproc, type Remote, type SubprocConnection } from 'netref';
import type { PrimeService } from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const netrefBin = join(here, '..', '..', 'bin', 'netref.js');
const LIMIT = Number(process.argv[2] ?? 6_000_000); // count the primes below this
const CHUNKS = 48; // more chunks than workers, so a fast worker takes more of them

/** One worker process: `netref serve worker.ts#PrimeService --stdio`, TypeScript loaded through tsx. */
function startWorker(): Promise<SubprocConnection> {
  return connectSubproc(process.execPath, [
    '--import',
    'tsx',
    netrefBin,
    'serve',
    join(here, 'worker.ts#PrimeService'),
    '--stdio',
  ]);
}

/** Counts the primes below LIMIT on `workers`, each taking the next chunk as soon as it is free. */
async function run(workers: Remote<PrimeService>[]): Promise<{ primes: number; ms: number }> {
  const size = Math.ceil(LIMIT / CHUNKS);
  let next = 0;
  let primes = 0;
  const started = performance.now();
  await Promise.all(
    workers.map(async (w) => {
      for (let i = next++; i < CHUNKS; i = next++) {
        // Not `primes += await …`: that reads `primes` before the await and loses the other workers' counts.
        const count = await w.countPrimes(i * size, Math.min(LIMIT, (i + 1) * size));
        primes += count;
      }
    }),
  );
  return { primes, ms: performance.now() - started };
}

const poolSize = Math.max(2, availableParallelism());
console.log(`starting ${poolSize} worker processes (this machine has ${availableParallelism()} cores)`);
const conns = await Promise.all(Array.from({ length: poolSize }, startWorker));
try {
  const workers = conns.map((c) => c.root as Remote<PrimeService>);
  const pids = await Promise.all(workers.map((w) => w.pid()));
  console.log(`workers ready: pids ${pids.join(', ')}`);

  const one = await run(workers.slice(0, 1));
  console.log(`1 worker:  ${one.primes} primes below ${LIMIT} in ${one.ms.toFixed(0)} ms`);
  const all = await run(workers);
  console.log(`${poolSize} workers: ${all.primes} primes below ${LIMIT} in ${all.ms.toFixed(0)} ms`);
  if (all.primes !== one.primes) throw new Error(`the pool counted ${all.primes}, one worker ${one.primes}`);
  console.log(`speed-up: ${(one.ms / all.ms).toFixed(2)}x with ${poolSize} workers`);
} finally {
  // Closing a connection ends its worker process; close() resolves once it has exited.
  await Promise.all(conns.map((c) => c.close()));
  console.log(`all ${conns.length} workers have exited`);
}
