// The MessagePort baseline's worker: each message from its parent is `{ port, copy }`, a port to echo on. Without
// `copy` each message (a frame, or an array of a tick's frames) goes straight back with its buffers transferred, the least a hand-written protocol over a
// MessagePort can do per call (W1/W2's small frames, as netref's PortChannel transfers its frames). With `copy` it
// goes back by structured clone, so this side keeps what it sent as a netref service keeps what it returns (W4).
import { parentPort } from 'node:worker_threads';

parentPort.on('message', ({ port, copy }) => {
  if (copy) port.on('message', (bytes) => port.postMessage(bytes));
  else
    port.on('message', (frames) =>
      port.postMessage(frames, Array.isArray(frames) ? frames.map((f) => f.buffer) : [frames.buffer]),
    );
});
