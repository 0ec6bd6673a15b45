// `npm run soak`: the full 1,000,000-call soak of issue 7 (test/faults.test.ts runs a short one in CI). Each call
// gets a new object by reference from a server process, calls it and releases it; both heaps must come back near
// their baseline. Usage: node --import tsx bench/soak.ts [CALLS]
import { soak } from '../test/support/soak.js';

const calls = Number(process.argv[2] ?? 1_000_000);
const MiB = 2 ** 20;
const r = await soak(calls, 32, (n) => process.stderr.write(`\r${n} calls`));
process.stderr.write('\n');
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
console.log(`calls: ${r.calls} in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.calls / (r.ms / 1000))}/s)`);
console.log(`client heap: ${mib(r.clientHeapBefore)} -> ${mib(r.clientHeapAfter)}`);
console.log(`server heap: ${mib(r.serverHeapBefore)} -> ${mib(r.serverHeapAfter)}; items still held: ${r.serverAlive}`);
const ok =
  r.serverAlive === 0 &&
  r.clientHeapAfter - r.clientHeapBefore < 16 * MiB &&
  r.serverHeapAfter - r.serverHeapBefore < 16 * MiB;
console.log(ok ? 'PASS: both heaps back near baseline' : 'FAIL: memory did not come back to baseline');
process.exitCode = ok ? 0 : 1;
