// A peer library's service in a worker thread, for the MessagePort comparison: comlink, birpc or Cap'n Web
// (workerData.peer). Plain JavaScript, so the worker needs no TypeScript loader.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter.js';
import { createBirpc } from 'birpc';
import { RpcTarget, newMessagePortRpcSession } from 'capnweb';

/** W3: the callback round trips alone, timed here. */
async function bounce(fn, count) {
  const start = performance.now();
  for (let i = 0; i < count; i++) await fn(i);
  return (performance.now() - start) * 1000;
}

if (workerData.peer === 'comlink') {
  Comlink.expose({ add: (a, b) => a + b, bounce }, nodeEndpoint(parentPort));
} else if (workerData.peer === 'birpc') {
  const rpc = createBirpc(
    { add: (a, b) => a + b, bounce: (count) => bounce((i) => rpc.inc(i), count) },
    { post: (data) => parentPort.postMessage(data), on: (fn) => parentPort.on('message', fn), timeout: 60_000 },
  );
} else if (workerData.peer === 'capnweb') {
  class Api extends RpcTarget {
    add(a, b) {
      return a + b;
    }
    bounce(fn, count) {
      return bounce(fn, count);
    }
  }
  parentPort.once('message', (port) => newMessagePortRpcSession(port, new Api()));
} else {
  throw new Error(`peerWorker: unknown peer ${workerData.peer}`);
}
