// The service `connectThread` runs in a worker for the MessagePort bench. Plain JavaScript against the built
// package, so the worker loads it without any TypeScript loader.
import { Service } from '../dist/index.js';

export default class BenchService extends Service {
  add(a, b) {
    return a + b;
  }
}
