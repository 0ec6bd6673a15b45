// A preload for worker threads in the tests: registers tsx so the worker can import TypeScript (on Node 20 the
// parent's `--import tsx` does not reach workers). Pass it as `preload` to connectThread and ThreadedServer.
import { register } from 'tsx/esm/api';

register();
