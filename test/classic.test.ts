import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AttributeError, classic, ClassicService, isNetref, obtain, Server, teleport, upload } from '../src/index.js';
import { decode, MessageKind } from '../src/protocol/index.js';
import { classicPair, TapChannel, within } from './support/pair.js';

/** A ClassicService on one end of an in-memory pair (this process), a classic connection on the other. */
/**
 * Requests `tap` sent and replies it received while `fn` ran: one of each is one round trip. Bookkeeping frames
 * (RELEASE of netrefs collected meanwhile, FINISH, PING) travel on their own schedule and are not counted.
 */
async function framesOf(tap: TapChannel, fn: () => Promise<unknown>): Promise<{ sent: number; received: number }> {
  const sent = tap.sent.length;
  const received = tap.received.length;
  await fn();
  const kinds = (frames: Uint8Array[]) => frames.map((f) => (decode(f) as unknown[])[0]);
  const requests: number[] = [MessageKind.CALL, MessageKind.GET, MessageKind.SET, MessageKind.DEL, MessageKind.LOOKUP];
  const replies: number[] = [MessageKind.RESULT, MessageKind.ERROR];
  return {
    sent: kinds(tap.sent.slice(sent)).filter((k) => requests.includes(k as number)).length,
    received: kinds(tap.received.slice(received)).filter((k) => replies.includes(k as number)).length,
  };
}

/** On Node 20 the parent's `--import tsx` does not reach workers: the worker registers tsx first. */
const threadOptions = () => ({ preload: [new URL('./support/tsxWorker.mjs', import.meta.url)] });

const g = globalThis as Record<string, unknown>;

describe('classic mode', () => {
  let p: Awaited<ReturnType<typeof classicPair<TapChannel>>>;
  let dir: string;
  before(async () => {
    p = await classicPair((ch) => new TapChannel(ch));
    dir = await mkdtemp(join(tmpdir(), 'netref-classic-'));
  });
  after(async () => {
    await p.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('modules', () => {
    it('imports a builtin module on the remote end, with or without node:, by reference', async () => {
      assert.equal(await p.c.modules.os.hostname(), os.hostname());
      assert.equal(await p.c.modules['node:path'].join('a', 'b'), join('a', 'b'));
      const remoteOs = await p.c.modules.os;
      assert.ok(isNetref(remoteOs), 'a module crosses by reference');
      assert.equal(await p.c.modules.os, remoteOs, 'the same module is the same netref');
    });

    it('costs one round trip for a pipelined call through a module', async () => {
      const frames = await framesOf(p.channel, () => p.c.modules.os.hostname());
      assert.deepEqual(frames, { sent: 1, received: 1 });
    });

    it('imports an ES module with top-level await (a promise on the remote end), still in one round trip', async () => {
      const file = join(dir, 'tla.mjs');
      await writeFile(file, 'await Promise.resolve();\nexport function answer(x) { return 40 + x; }\n');
      const frames = await framesOf(p.channel, async () => {
        assert.equal(await p.c.modules[file].answer(2), 42);
      });
      assert.deepEqual(frames, { sent: 1, received: 1 });
      assert.ok(isNetref(await p.c.modules[file]), 'a module namespace crosses by reference');
    });

    it('resolves package names from the remote current directory, import-only packages included', async () => {
      const pkg = join(dir, 'node_modules', 'netref-import-only');
      await mkdir(pkg, { recursive: true });
      await writeFile(
        join(pkg, 'package.json'),
        JSON.stringify({ name: 'netref-import-only', type: 'module', exports: { '.': { import: './index.js' } } }),
      );
      await writeFile(join(pkg, 'index.js'), 'export const where = "import-only";\n');
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.equal(await p.c.modules['netref-import-only'].where, 'import-only');
      } finally {
        process.chdir(cwd);
      }
    });

    it('rejects a module that does not exist with an error naming it', async () => {
      await assert.rejects(
        Promise.resolve(p.c.modules['netref-no-such-module'].anything()),
        (e: NodeJS.ErrnoException) =>
          e.code === 'MODULE_NOT_FOUND' && /cannot import 'netref-no-such-module': no such module/.test(e.message),
      );
    });

    it('keeps the never-reachable names refused', async () => {
      await assert.rejects(Promise.resolve(p.c.modules.constructor), AttributeError);
      await assert.rejects(Promise.resolve(p.c.modules.os.__proto__), AttributeError);
      await assert.rejects(Promise.resolve(p.c.globals.Object.prototype), AttributeError);
    });
  });

  describe('execute', () => {
    after(() => {
      // `var` and `function` globals cannot be deleted: emptied instead. `let` lives in the script scope.
      for (const name of ['__nrVar', '__nrFn', '__nrVar2']) g[name] = undefined;
      delete g.__nrBare;
      delete g.__nrBare2;
    });

    it('makes var, function and bare assignments globals', async () => {
      const result = await p.c.execute('var __nrVar = 1;\nfunction __nrFn() { return 2; }\n__nrBare = 3;');
      assert.equal(result, 3, 'an assignment statement is an expression statement');
      assert.equal(g.__nrVar, 1);
      assert.equal((g.__nrFn as () => number)(), 2);
      assert.equal(g.__nrBare, 3);
    });

    it('keeps let and const between calls, off the global object', async () => {
      assert.equal(await p.c.execute('let __nrLet = 5;\nconst __nrConst = 6;'), undefined);
      assert.equal(await p.c.execute('__nrLet += 1; __nrLet + __nrConst'), 12);
      assert.equal('__nrLet' in globalThis, false);
      await p.c.execute('__nrLet = undefined');
    });

    it('runs top-level await, its declarations persisting too', async () => {
      assert.equal(await p.c.execute('let __nrAwaited = await Promise.resolve(7);\n__nrAwaited * 2'), 14);
      assert.equal(await p.c.execute('var __nrVar2 = await 8; __nrBare2 = await 9; __nrAwaited'), 7);
      assert.equal(g.__nrVar2, 8);
      assert.equal(g.__nrBare2, 9);
      await p.c.execute('__nrAwaited = undefined');
    });

    it('resolves to the value of the last expression statement', async () => {
      assert.equal(await p.c.execute('1;\n2;\n"three"'), 'three');
      assert.deepEqual(await p.c.execute('{ a: 1, b: [2] }'), { a: 1, b: [2] });
      assert.equal(await p.c.execute('if (true) { "inside" }'), 'inside');
      assert.equal(await p.c.execute(''), undefined);
    });

    it('rejects with what the code threw, class and message kept', async () => {
      await assert.rejects(Promise.resolve(p.c.execute('null.x')), (e: Error) => {
        return e instanceof TypeError && /Cannot read properties of null \(reading 'x'\)/.test(e.message);
      });
      await assert.rejects(Promise.resolve(p.c.execute('throw new RangeError("boom")')), {
        name: 'RangeError',
        message: 'boom',
      });
      await assert.rejects(Promise.resolve(p.c.execute('await Promise.reject(new URIError("later"))')), {
        name: 'URIError',
        message: 'later',
      });
      await assert.rejects(Promise.resolve(p.c.execute('1 +* 2')), SyntaxError);
      await assert.rejects(Promise.resolve(p.c.execute('__nrNothingHere')), ReferenceError);
    });

    it('rejects incomplete code with a SyntaxError instead of waiting for more', async () => {
      for (const code of ['function f() {', 'if (x) {', 'const o = { a: 1,', 'await (async () => {']) {
        await within(
          assert.rejects(
            Promise.resolve(p.c.execute(code)),
            (e: Error) => e instanceof SyntaxError && /Unexpected end of input/.test(e.message),
          ),
          5000,
          `a SyntaxError for ${JSON.stringify(code)}`,
        );
      }
    });

    it('runs outside any domain and leaves process signal handlers alone', async () => {
      const sigint = process.listenerCount('SIGINT');
      assert.equal(await p.c.execute('process.domain ?? null'), null);
      assert.equal(process.listenerCount('SIGINT'), sigint);
      assert.equal(typeof (globalThis as { require?: unknown }).require, 'undefined', 'no REPL globals were left');
    });
  });

  describe('eval', () => {
    it('gives the value of one expression, await allowed, in the scope execute uses', async () => {
      assert.equal(await p.c.eval('1 + 2'), 3);
      assert.equal(await p.c.eval('await Promise.resolve(4) // a trailing comment'), 4);
      assert.deepEqual(await p.c.eval('{ a: 1 }'), { a: 1 });
      await p.c.execute('let __nrSeen = "from execute"');
      assert.equal(await p.c.eval('__nrSeen'), 'from execute');
      await p.c.execute('__nrSeen = undefined');
    });

    it('refuses statements with a SyntaxError', async () => {
      await assert.rejects(Promise.resolve(p.c.eval('let y = 1')), SyntaxError);
      await assert.rejects(Promise.resolve(p.c.eval('1; 2')), SyntaxError);
    });

    it('costs one round trip, the value of the pipelined path included', async () => {
      const frames = await framesOf(p.channel, async () => assert.equal(await p.c.eval('6 * 7'), 42));
      assert.deepEqual(frames, { sent: 1, received: 1 });
    });
  });

  describe('globals', () => {
    it('is the remote globalThis, by reference', async () => {
      assert.ok(isNetref(await p.c.globals));
      assert.equal(await p.c.globals.Math.max(1, 5), 5);
      assert.equal(await p.c.globals.process.pid, process.pid);
      g.__nrSetByTest = { n: 1 };
      try {
        assert.deepEqual(await p.c.globals.__nrSetByTest, { n: 1 });
      } finally {
        delete g.__nrSetByTest;
      }
    });

    it('costs one round trip through globals', async () => {
      const frames = await framesOf(p.channel, () => p.c.globals.Math.max(1, 2));
      assert.deepEqual(frames, { sent: 1, received: 1 });
    });
  });
});

describe('classic factories and servers', () => {
  it('the classic namespace holds the factories and the helpers for a classic connection', async () => {
    for (const name of ['connect', 'connectSubproc', 'connectThread', 'connectChannel'] as const) {
      assert.equal(typeof classic[name], 'function', name);
    }
    assert.equal(classic.obtain, obtain);
    assert.equal(classic.teleport, teleport);
    assert.equal(classic.upload, upload);
    const { c, close } = await classicPair();
    try {
      const double = await classic.teleport(c, (x: number) => x * 2);
      assert.equal(await double(21), 42);
    } finally {
      await close();
    }
  });

  it('a Server refuses ClassicService on a non-loopback host without an authenticator', async () => {
    const server = new Server(ClassicService, { host: '0.0.0.0', port: 0 });
    await assert.rejects(server.start(), /refusing to serve a service with allowAllAttrs .* insecure: true/);
    assert.equal(server.address(), null, 'nothing listens');
    await server.close();
  });

  it('classic.connect reaches a ClassicService served on 127.0.0.1', async () => {
    const server = new Server(ClassicService, { host: '127.0.0.1', port: 0 });
    await server.start();
    const c = await classic.connect('127.0.0.1', server.port!);
    try {
      assert.equal(await c.eval('process.pid'), process.pid);
      assert.equal(await c.modules.os.platform(), process.platform);
    } finally {
      await c.close();
      await server.close();
    }
  });

  it('classic.connectSubproc runs the whole runtime of a child process, ended with the connection', async () => {
    const c = await classic.connectSubproc({ stderr: 'pipe' });
    let closed = false;
    try {
      const pid = c.process.pid!;
      assert.equal(await c.eval('process.pid'), pid);
      assert.notEqual(pid, process.pid);
      assert.equal(await c.execute('var x = 20; x + 1'), 21);
      assert.equal(await c.modules.os.hostname(), os.hostname());
      await c.close();
      closed = true;
      assert.notEqual(c.process.exitCode ?? c.process.signalCode, null, 'the child has exited');
    } finally {
      if (!closed) await c.close();
    }
  });

  it('classic.connectThread runs the whole runtime of a worker thread, ended with the connection', async () => {
    const c = await classic.connectThread(threadOptions());
    try {
      assert.equal(await c.modules.worker_threads.isMainThread, false);
      assert.equal(await c.eval('process.pid'), process.pid);
      assert.equal(await c.execute('const k = await 2; k * 3'), 6);
    } finally {
      await c.close();
    }
  });
});
