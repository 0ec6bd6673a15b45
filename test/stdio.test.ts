import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  channelPair,
  classic,
  connectChannel,
  redirectedStdio,
  Service,
  type ClassicConnection,
  type SubprocConnection,
} from '../src/index.js';

/** A stream that keeps what is written to it, as bytes. */
function collector(): { stream: PassThrough; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => chunks.push(d));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs `code` on the remote end and waits for a round trip after it: a forwarded write is a call the remote end
 * sends before its reply, so by then it has arrived.
 */
async function run(c: ClassicConnection, code: string): Promise<void> {
  await c.execute(code);
  await c.ping();
}

describe('redirectedStdio', () => {
  // A classic end in its own process (`netref classic --stdio`): its process.stdout and stderr are real streams.
  let c: ClassicConnection<SubprocConnection>;
  before(async () => {
    c = await classic.connectSubproc({ stderr: 'pipe' });
  });
  after(async () => {
    await c.close();
  });

  it("shows the remote end's stdout and stderr writes here, in order, until disposed", async () => {
    const out = collector();
    const err = collector();
    {
      using _redirected = await redirectedStdio(c, { stdout: out.stream, stderr: err.stream });
      await run(
        c,
        `console.log('hello from', process.pid); console.error('to stderr');
         process.stdout.write('a ');
         process.stdout.write(Buffer.from([0xe2, 0x82])); process.stdout.write(Buffer.from([0xac, 0x0a]));`,
      );
      // A character split across two writes arrives whole: bytes cross as bytes.
      assert.equal(out.text(), `hello from ${c.process.pid}\na €\n`);
      // A stdio server sends its stdout to stderr; a write shows once, on the stream it was written to.
      assert.equal(err.text(), 'to stderr\n');
    }
    await run(c, "console.log('after dispose'); console.error('after dispose')");
    assert.doesNotMatch(out.text() + err.text(), /after dispose/);
  });

  it('close() restores the streams, and closing twice is harmless', async () => {
    const out = collector();
    const r = await redirectedStdio(c, { stdout: out.stream, stderr: out.stream });
    await run(c, "console.log('one')");
    await r.close();
    await r.close();
    await run(c, "console.log('two')");
    assert.equal(out.text(), 'one\n');
  });

  it('redirections nest, and each ends on its own', async () => {
    const first = collector();
    const second = collector();
    const a = await redirectedStdio(c, { stdout: first.stream, stderr: first.stream });
    const b = await redirectedStdio(c, { stdout: second.stream, stderr: second.stream });
    await run(c, "console.log('both')");
    await a.close(); // the earlier one ends first, under the later
    await run(c, "console.log('second only')");
    await b.close();
    await run(c, "console.log('none')");
    assert.equal(first.text(), 'both\n');
    assert.equal(second.text(), 'both\nsecond only\n');
  });

  it('await using ends it too', async () => {
    const out = collector();
    {
      await using _r = await redirectedStdio(c, { stdout: out.stream });
      await run(c, "process.stdout.write('inside')");
    }
    await run(c, "process.stdout.write('outside')");
    assert.equal(out.text(), 'inside');
  });

  it('close() resolves on a connection that has closed', async () => {
    const other = await classic.connectSubproc({ stderr: 'ignore' });
    const r = await redirectedStdio(other, { stdout: collector().stream });
    await other.close();
    await r.close();
  });

  it('refuses, with a TypeError, a peer that is no classic end', async () => {
    const [ca, cb] = channelPair();
    const [server, plain] = await Promise.all([
      connectChannel(ca, { service: class extends Service {} }),
      connectChannel(cb),
    ]);
    try {
      await assert.rejects(redirectedStdio(plain), (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /^redirectedStdio\(\) needs a classic connection/);
        return true;
      });
    } finally {
      await Promise.all([plain.close(), server.close()]);
    }
  });
});
