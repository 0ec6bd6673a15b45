// The MessagePort baseline's worker: takes one port from its parent, then posts each message straight back,
// transferring its buffer, the least a hand-written protocol over a MessagePort can do per call.
import { parentPort } from 'node:worker_threads';

parentPort.once('message', (port) => {
  port.on('message', (frame) => port.postMessage(frame, [frame.buffer]));
});
