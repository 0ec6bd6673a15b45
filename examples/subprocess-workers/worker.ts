// The worker of the subprocess-workers example: a Service that does CPU-heavy work. main.ts starts several of
// these with `netref serve worker.ts#PrimeService --stdio`, one process each, and spreads a job over them.
import { Service } from 'netref';

export class PrimeService extends Service {
  /** How many primes there are in [from, to): trial division, deliberately plain so it costs CPU. */
  countPrimes(from: number, to: number): number {
    let count = 0;
    for (let n = Math.max(from, 2); n < to; n++) {
      let prime = n === 2 || n % 2 === 1;
      for (let d = 3; prime && d * d <= n; d += 2) if (n % d === 0) prime = false;
      if (prime) count++;
    }
    return count;
  }

  pid(): number {
    return process.pid;
  }
}
