import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConnectionClosedError, connectSubproc, type Remote, type SubprocConnection } from '../src/index.js';
import type { EchoService } from './fixtures/subproc-echo.js';
import { within } from './support/pair.js';

const here = dirname(fileURLToPath(import.meta.url));
const echoChild = join(here, 'fixtures', 'subproc-echo.ts');
/** The child runs TypeScript the way this test does. */
const tsx = ['--import', 'tsx'];

function startEcho(extra: string[] = [], opts: Parameters<typeof connectSubproc>[2] = {}) {
  return connectSubproc(process.execPath, [...tsx, echoChild, ...extra], { stderr: 'pipe', ...opts });
}

/** Collects what the child writes to its (piped) stderr. */
function captureStderr(conn: SubprocConnection): { text: () => string } {
  let text = '';
  conn.process.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { text: () => text };
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('connectSubproc', () => {
  it('calls a child both ways, and close() ends the child', async () => {
    const conn = await startEcho();
    const echo = conn.root as Remote<EchoService>;
    assert.equal(await echo.pid(), conn.process.pid);
    assert.deepEqual(await echo.echo({ a: [1, 2n, 'x'] }), { a: [1, 2n, 'x'] });
    assert.equal(await echo.callBack(async (x: number) => x * 10, 4), 41);
    assert.equal(conn.peer.transport, 'subprocess');
    const pid = conn.process.pid!;
    await conn.close();
    assert.notEqual(
      conn.process.exitCode ?? conn.process.signalCode,
      null,
      'the child has exited when close() resolves',
    );
    assert.ok(gone(pid));
  });

  it('keeps stray stdout output of the child off the frame stream (it goes to stderr)', async () => {
    const conn = await startEcho();
    const err = captureStderr(conn);
    const echo = conn.root as Remote<EchoService>;
    assert.equal(await echo.chatty('hello from console.log'), 'said');
    assert.equal(await echo.echo(7), 7, 'the stream is intact after the stray writes');
    await within(
      (async () => {
        while (!err.text().includes('hello from console.log (raw)')) await new Promise((r) => setImmediate(r));
      })(),
      5000,
      'the stray output on stderr',
    );
    assert.match(err.text(), /hello from console\.log\n/);
    await conn.close();
  });

  it('a child that crashes mid-call closes the connection with its exit code, and the call rejects', async () => {
    const conn = await startEcho();
    const echo = conn.root as Remote<EchoService>;
    const pending = Promise.resolve(echo.never());
    const crash = Promise.resolve(echo.crash(7));
    await assert.rejects(
      crash,
      (e: Error) => e instanceof ConnectionClosedError && /exited with code 7/.test(e.message),
    );
    await assert.rejects(pending, ConnectionClosedError);
    const reason = await within(conn.closed, 5000, 'closed');
    assert.match(String(reason?.message), /exited with code 7/);
    await conn.close();
  });

  it('a child killed by a signal names the signal', async () => {
    const conn = await startEcho();
    const pending = Promise.resolve((conn.root as Remote<EchoService>).never());
    conn.process.kill('SIGKILL');
    await assert.rejects(pending, /killed by SIGKILL/);
    await conn.close();
  });

  it('rejects clearly when the child exits before the handshake, and leaves nothing running', async () => {
    await assert.rejects(
      connectSubproc(process.execPath, ['-e', 'process.exit(3)']),
      (e: Error) => e instanceof ConnectionClosedError && /exited with code 3/.test(e.message),
    );
  });

  it('rejects clearly when the program does not exist', async () => {
    await assert.rejects(connectSubproc('/nonexistent/netref-test-program', ['x']), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /cannot start \/nonexistent\/netref-test-program: ENOENT/);
      return true;
    });
  });

  it('ends a child that ignores its stdin ending and SIGTERM, with SIGKILL', async () => {
    const conn = await startEcho(['stubborn'], { exitTimeout: 200 });
    const err = captureStderr(conn);
    assert.equal(await (conn.root as Remote<EchoService>).echo(1), 1);
    await within(conn.close(), 5000, 'close');
    assert.equal(conn.process.signalCode, 'SIGKILL');
    assert.match(err.text(), /ignoring SIGTERM/);
  });

  it('a handshake that never comes times out, and the child is ended', async () => {
    const start = connectSubproc(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      protocolConfig: { handshakeTimeout: 300 },
      exitTimeout: 200,
    });
    await assert.rejects(start, /did not complete the netref handshake within 300 ms/);
  });
});
