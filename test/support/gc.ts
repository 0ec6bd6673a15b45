import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as () => void;

/** Runs full garbage collections, letting finalizers and batched releases run between them. */
export async function collect(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gcFn();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
  }
}
