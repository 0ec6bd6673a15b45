// The service `connectThread` runs in a worker for the MessagePort bench (and the peers' table). Plain JavaScript
// against the built package, so the worker loads it without any TypeScript loader. Mirrors netrefServer.ts.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Service, byRef } from '../dist/index.js';

/** gc(), made on first use: the flag set at run time shows it to a new context (a worker takes no V8 flags). */
let collect;

export default class BenchService extends Service {
  add(a, b) {
    return a + b;
  }

  /** W4: the bytes come back, as the raw baseline's echo does. */
  echo(bytes) {
    return bytes;
  }

  /**
   * W3: calls the client's `fn` `count` times one after another and returns the microseconds that took, timed
   * here so the figure is the callback round trip alone, without the call that carried `fn` over.
   */
  async bounce(fn, count) {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const got = await fn(i);
      if (got !== i + 1) throw new Error(`callback returned ${got} for ${i}`);
    }
    return (performance.now() - start) * 1000;
  }

  /** W5: a fresh object each time, crossing by reference. */
  make(n) {
    return byRef({ value: () => n });
  }

  /** W5: this worker's heap (its own isolate's, not the process's) after two full collections, in bytes. */
  heap() {
    if (!collect) {
      v8.setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc');
    }
    collect();
    collect();
    return v8.getHeapStatistics().used_heap_size;
  }
}
