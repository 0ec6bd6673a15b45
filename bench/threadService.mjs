// The service `connectThread` runs in a worker for the MessagePort bench. Plain JavaScript against the built
// package, so the worker loads it without any TypeScript loader.
import { performance } from 'node:perf_hooks';
import { Service } from '../dist/index.js';

export default class BenchService extends Service {
  add(a, b) {
    return a + b;
  }

  /** W3 in the peers' table: the callback round trips alone, timed here. */
  async bounce(fn, count) {
    const start = performance.now();
    for (let i = 0; i < count; i++) await fn(i);
    return (performance.now() - start) * 1000;
  }
}
