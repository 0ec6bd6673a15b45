import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect, connectSubproc, type Remote } from '../src/index.js';
import { bin, root, runCli, startCli, stopCli } from './support/netrefCli.js';
import { within } from './support/pair.js';

const calc = join(root, 'test', 'fixtures', 'cli-calc.mjs');

interface Calc {
  add(a: number, b: number): number;
  pid(): number;
  isMainThread(): Promise<boolean>;
}

describe('netref serve', () => {
  it('serves MODULE#Export on stdio for connectSubproc', async () => {
    const conn = await connectSubproc(process.execPath, [bin, 'serve', `${calc}#CalcService`, '--stdio'], {
      stderr: 'pipe',
    });
    let stderr = '';
    conn.process.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const svc = conn.root as Remote<Calc>;
    assert.equal(await svc.add(2, 3), 5);
    assert.equal(await svc.pid(), conn.process.pid);
    await conn.close();
    assert.equal(conn.process.exitCode, 0, `exit code 0 after close (stderr: ${stderr})`);
    assert.match(stderr, /netref serve listening on stdio/);
  });

  for (const mode of ['event', 'threaded', 'forking'] as const) {
    it(`serves on TCP with --mode ${mode}, prints the bound URI, and exits 0 on SIGTERM`, async () => {
      const { child, uri } = await startCli(['serve', calc, '--port', '0', '--mode', mode, '--workers', '1']);
      assert.match(uri, /^tcp:\/\/127\.0\.0\.1:\d+$/);
      const conn = await connect(uri);
      const svc = conn.root as Remote<Calc>;
      assert.equal(await svc.add(20, 22), 42);
      const pid = await svc.pid();
      if (mode === 'forking') assert.notEqual(pid, child.pid, 'a forked child serves the connection');
      else assert.equal(pid, child.pid);
      assert.equal(await svc.isMainThread(), mode !== 'threaded');
      const closed = conn.closed;
      assert.equal(await stopCli(child), 0);
      await within(closed, 5000, 'the client connection to close');
    });
  }

  it('serves on a Unix socket with --path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netref-cli-'));
    const path = join(dir, 'serve.sock');
    try {
      const { child, uri } = await startCli(['serve', calc, '--path', path]);
      assert.equal(uri, `unix://${path}`);
      const conn = await connect({ path });
      assert.equal(await (conn.root as Remote<Calc>).add(1, 1), 2);
      await conn.close();
      assert.equal(await stopCli(child), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly, exit 1, when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve', calc, '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`cannot listen on tcp://127\\.0\\.0\\.1:${port}: EADDRINUSE`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('fails clearly, exit 1, when the module does not exist or has no such export', async () => {
    const missing = await runCli(['serve', './no/such/module.mjs', '--port', '0']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot load the service module .*no\/such\/module\.mjs: it does not exist/);
    const noExport = await runCli(['serve', `${calc}#Nope`, '--port', '0']);
    assert.equal(noExport.code, 1);
    assert.match(noExport.stderr, /has no export 'Nope' \(it exports: CalcService, default\)/);
  });

  it('rejects bad options with exit 2 and says which', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', calc, '--mode', 'nope'], /--mode is event, threaded or forking, got 'nope'/],
      [['serve', calc, '--stdio', '--port', '1'], /--stdio .* takes no --host, --port or --path/],
      [['serve', calc, '--port', 'x'], /--port takes a whole number/],
      [['serve'], /netref serve takes one MODULE/],
      [['serve', calc, '--bogus'], /Unknown option '--bogus'/],
      [['classic', '--key', 'k.json'], /--key needs --network-key/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `exit code of netref ${args.join(' ')}`);
      assert.match(r.stderr, message);
    }
  });
});

describe('netref classic', () => {
  it('serves the classic service on TCP', async () => {
    const { child, uri } = await startCli(['classic', '--port', '0']);
    const conn = await connect(uri);
    assert.equal(await conn.root.eval('6 * 7'), 42);
    assert.equal(await conn.root.modules.os.hostname(), (await import('node:os')).hostname());
    await conn.close();
    assert.equal(await stopCli(child), 0);
  });

  // Only the refusal is tried: tests never bind beyond 127.0.0.1.
  it('refuses a non-loopback bind without an authenticator', async () => {
    const r = await runCli(['classic', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to serve .* on 0\.0\.0\.0 without an authenticator/);
  });
});
