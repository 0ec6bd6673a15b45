// Type-level tests for Remote<T> and RemotePromise<T>: checked by `tsc --noEmit` (npm run lint and npm test).
// The runtime test only makes sure the file is loaded by the runner.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Service, type Remote, type RemotePromise } from '../src/index.js';

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

class Profile {
  constructor(public name: string) {}
  rename(n: string): void {
    this.name = n;
  }
}

class Api extends Service {
  count = 3;
  data = { a: 1, nested: { b: 'x' } };
  add(a: number, b: number): number {
    return a + b;
  }
  async slow(x: number): Promise<string> {
    return String(x);
  }
  user(): { id: number; tags: string[] } {
    return { id: 1, tags: [] };
  }
  profile(): Profile {
    return new Profile('p');
  }
  each(fn: (x: number) => void): void {
    fn(1);
  }
  _secret(): void {}
}

declare const api: Remote<Api>;

// Methods return RemotePromises of their (awaited) results.
expectType<Equal<Awaited<ReturnType<typeof api.add>>, number>>();
expectType<Equal<Awaited<ReturnType<typeof api.slow>>, string>>();
// Data comes back as a copy; objects with methods come back as netrefs.
expectType<Equal<Awaited<ReturnType<typeof api.user>>, { id: number; tags: string[] }>>();
expectType<Equal<Awaited<ReturnType<typeof api.profile>>, Remote<Profile>>>();
// Property reads are awaitable.
expectType<Equal<Awaited<typeof api.count>, number>>();
expectType<Equal<Awaited<typeof api.data.nested.b>, string>>();
// Pipelining: members of a pending result are usable before it resolves.
expectType<Equal<Awaited<ReturnType<typeof api.profile>['name']>, string>>();
expectType<Equal<typeof api.user extends () => RemotePromise<{ id: number; tags: string[] }> ? true : false, true>>();
async function usage(): Promise<void> {
  const n: number = await api.user().id;
  const p = await api.profile();
  await p.rename('q');
  // arguments may be netrefs or pending results of the same type
  await api.add(api.add(1, 2), 3);
  await api.each((x) => void x);
  void n;
}
void usage;

// Private names and Service hooks are absent. (Inside a function that never runs: `api` exists only as a type.)
function refusals(): void {
  // @ts-expect-error _secret is never reachable
  void api._secret;
  // @ts-expect-error onConnect is a lifecycle hook, never reachable
  void api.onConnect;
  // @ts-expect-error wrong argument type
  void api.add('1', 2);
}
void refusals;

it('Remote<T> type tests compile (see tsc)', () => {
  assert.equal(expectType<true>(), undefined);
});
