// The worker side of `connectThread`: loads the service module, then serves it to the parent with connectParent.
// Started by startWorker's bootstrap in a worker netref owns; it does nothing anywhere else.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadServiceModule, type ServiceLike } from '../core/index.js';
import { connectParent } from './connectParent.js';
import { THREAD_FAILED_MESSAGE, type ThreadData, type ThreadFailedMessage } from './threadMessages.js';

async function run(port: NonNullable<typeof parentPort>, data: ThreadData['netrefThread']): Promise<void> {
  let service: ServiceLike;
  try {
    service = await loadServiceModule({ module: data.module, export: data.export });
  } catch (error) {
    const failure: ThreadFailedMessage = {
      type: THREAD_FAILED_MESSAGE,
      message: (error as Error)?.message ?? String(error),
      ...((error as NodeJS.ErrnoException)?.code ? { code: (error as NodeJS.ErrnoException).code } : {}),
    };
    port.postMessage(failure);
    // Stay until the parent terminates us, so that the failure, not an exit, is what it sees first. (Bounded, in
    // case nobody does.)
    setTimeout(() => process.exit(1), 60_000);
    return;
  }
  const conn = await connectParent({ service, protocolConfig: data.protocolConfig });
  await conn.closed;
  // The worker ends with its connection, whatever the service left scheduled; a turn lets onDisconnect run.
  setImmediate(() => process.exit(0));
}

const data = (workerData as Partial<ThreadData> | undefined)?.netrefThread;
if (!isMainThread && parentPort && data) {
  // A failed connect (the parent gave up) ends the worker; the parent terminates it anyway.
  run(parentPort, data).catch(() => process.exit(1));
}
