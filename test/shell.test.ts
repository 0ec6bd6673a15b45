import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { shellCommand } from '../src/cli/shellCommand.js';
import { classic, ConnectionClosedError, generateKeys, interact, randomNetworkKey } from '../src/index.js';
import { within } from './support/pair.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The `netref` command from the sources (shell included, whether or not main.ts dispatches it yet). */
const cli = join(root, 'test', 'support', 'netrefFromSource.ts');
const run = promisify(execFile);

/** Starts `netref classic --port 0` in a child process; resolves once it listens, with its port. */
async function startClassicServer(...flags: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'classic', '--port', '0', ...flags], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /^netref classic listening on tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`netref classic exited with code ${code} before listening:\n${stderr}`)),
    );
  });
  return { child, port: await within(listening, 30_000, 'netref classic to listen') };
}

/** Ends a child by its PID and waits for it. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await within(exited, 10_000, `process ${child.pid} to exit`);
}

/** Runs `netref shell ARGS` with `input` on its stdin; resolves with its exit code and output. */
async function shell(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'shell', ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  try {
    const [code] = (await within(once(child, 'exit'), 30_000, 'netref shell to exit')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Drops terminal escape sequences (colours, cursor moves) from what a REPL wrote. */
// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const plain = (text: string) => text.replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|[=>])/g, '');

/** Polls `read()` every few ms until `test` holds on what it returns; fails after `ms` showing the last value. */
async function waitFor(
  read: () => string | Promise<string>,
  test: (text: string) => boolean,
  what: string,
  ms = 15_000,
) {
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    last = await read();
    if (test(last)) return last;
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}; the screen:\n${last}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('netref shell', () => {
  let server: { child: ChildProcess; port: number };
  let uri: string;
  before(async () => {
    server = await startClassicServer();
    uri = `tcp://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await stop(server.child);
  });

  it('runs piped input as a script on the remote end: one result per input, no prompts, exit 1 after an error', async () => {
    const script = [
      'let counter = 40',
      'counter += 2',
      "const hello = await new Promise((resolve) => setTimeout(() => resolve('awaited'), 10))",
      'hello',
      'modules.os.hostname()',
      'function add(a, b) {',
      '  return a + b',
      '}',
      'add(counter,',
      '  1)',
      "console.log('printed on the remote end')",
      'null.boom',
      'process.pid',
    ].join('\n');
    const { code, stdout, stderr } = await shell([uri], script + '\n');
    const report = `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
    assert.equal(code, 1, `exit code${report}`);
    const lines = stdout.split('\n');
    assert.deepEqual(
      lines.slice(0, 9),
      [
        'undefined',
        '42',
        'undefined',
        "'awaited'",
        `'${hostname()}'`,
        'undefined',
        '43',
        'printed on the remote end',
        'undefined',
      ],
      report,
    );
    assert.equal(lines[9], "Uncaught TypeError: Cannot read properties of null (reading 'boom')", report);
    assert.match(lines[10]!, /^ {4}at netref-classic:1:\d+$/, `the remote stack follows${report}`);
    assert.equal(lines.at(-2), String(server.child.pid), `the code ran in the server's process${report}`);
    assert.equal(stderr, '', report);
  });

  it('exits 0 when every input succeeds, and stops reading at .exit', async () => {
    const ok = await shell([uri], "'fine'\n.exit\nthis is never read\n");
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, "'fine'\n", '']);
  });

  it('interact on a pipe prints syntax errors as the REPL does, and counts the inputs that failed', async () => {
    const c = await classic.connect(uri);
    try {
      const session = async (script: string) => {
        const output = new PassThrough();
        let text = '';
        output.setEncoding('utf8').on('data', (d: string) => (text += d));
        const input = new PassThrough();
        input.end(script);
        const result = await interact(c, { input, output, terminal: false });
        return { ...result, text };
      };
      assert.deepEqual(await session('1 +* 2\n'), {
        errors: 1,
        text: "1 +* 2\n   ^\n\nUncaught SyntaxError: Unexpected token '*'\n",
      });
      const unfinished = await session('// just a comment\n\nfunction f() {\n  return 1\n');
      assert.deepEqual(unfinished, {
        errors: 1,
        text: 'Uncaught SyntaxError: Unexpected end of input (the script ended inside a statement)\n',
      });
      const runtime = await session("eval('a +')\nlet twice = 1\nlet twice = 2\n");
      assert.equal(runtime.errors, 2, 'a SyntaxError thrown by running code is an error, not a wait for more lines');
      assert.match(runtime.text, /^Uncaught SyntaxError: Unexpected end of input\n {4}at netref-classic:1:1\n/);
      assert.match(runtime.text, /\nundefined\nUncaught SyntaxError: Identifier 'twice' has already been declared\n$/);
    } finally {
      await c.close();
    }
  });

  it('fails clearly: exit 1 when it cannot connect, 2 for a mistake on the command line', async (t) => {
    // These never read stdin: run in this process, with the console captured.
    const printed = { log: '', error: '' };
    t.mock.method(console, 'log', (text: string) => (printed.log += `${text}\n`));
    t.mock.method(console, 'error', (text: string) => (printed.error += `${text}\n`));
    const outcome = async (args: string[]) => {
      printed.log = printed.error = '';
      return { code: await shellCommand(args), ...printed };
    };
    const refused = await outcome(['tcp://127.0.0.1:1']);
    assert.equal(refused.code, 1);
    assert.match(refused.error, /^netref shell: cannot connect to tcp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    const usage = await outcome(['--bogus']);
    assert.equal(usage.code, 2);
    assert.match(usage.error, /^netref shell: .*--bogus.*\n\(see netref shell --help\)\n$/);
    const twoUris = await outcome([uri, uri]);
    assert.equal(twoUris.code, 2);
    const halfKeys = await outcome([uri, '--network-key', Buffer.alloc(32).toString('base64')]);
    assert.equal(halfKeys.code, 2);
    assert.match(halfKeys.error, /^netref shell: .*--server-key/);
    const help = await outcome(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.log, /^usage: netref shell \[URI\]/);
  });

  it('ends, rejecting with ConnectionClosedError, when the remote end goes away during a session', async () => {
    // A classic end in a worker thread of this process: process.exit() there ends the thread, and the connection.
    const c = await classic.connectThread({ preload: [new URL('./support/tsxWorker.mjs', import.meta.url)] });
    const output = new PassThrough();
    let text = '';
    output.setEncoding('utf8').on('data', (d: string) => (text += d));
    const input = new PassThrough();
    input.end('1\nprocess.exit(3)\n2\n');
    try {
      await assert.rejects(within(interact(c, { input, output, terminal: false }), 20_000, 'interact to end'), (e) => {
        assert.ok(e instanceof ConnectionClosedError, String(e));
        return true;
      });
      assert.equal(text, '1\n');
    } finally {
      await c.close();
    }
  });

  it('connects to a server behind the secure channel with --network-key and --server-key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netref-shell-keys-'));
    const keys = generateKeys();
    const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');
    const keyFile = join(dir, 'server.key');
    await writeFile(keyFile, JSON.stringify({ publicKey: b64(keys.publicKey), secretKey: b64(keys.secretKey) }));
    const networkKey = b64(randomNetworkKey());
    const secure = await startClassicServer('--key', keyFile, '--network-key', networkKey);
    try {
      const args = [`tcp://127.0.0.1:${secure.port}`, '--network-key', networkKey, '--server-key', b64(keys.publicKey)];
      const { code, stdout, stderr } = await shell(args, 'process.pid\n');
      assert.deepEqual([code, stdout, stderr], [0, `${secure.child.pid}\n`, '']);
    } finally {
      await stop(secure.child);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('completes remote names on Tab in a terminal session (node:repl, driven through its input)', async () => {
    const c = await classic.connect(uri);
    const input = new PassThrough();
    const output = new PassThrough();
    let screen = '';
    output.setEncoding('utf8').on('data', (d: string) => (screen += d));
    const session = interact(c, { input, output, terminal: true, historyFile: '', redirectStdio: false });
    const type = async (keys: string, expect: RegExp, what: string) => {
      const before = screen.length;
      input.write(keys);
      await waitFor(
        () => plain(screen.slice(before)),
        (s) => expect.test(s),
        what,
      );
    };
    try {
      await type('let shellVar = { alpha: 1, alphabet: 2 }\r', /undefined/, 'the declaration to run');
      await type('shellVar.alphab\t', /alphabet/, 'a member of a remote object to complete');
      await type('\r', /^\s*2\s*$/m, 'the completed expression to run');
      await type('shellVar.al\t', /pha/, 'the common prefix to be inserted');
      await type('\t', /alpha\s+alphabet/, 'both candidates to be listed');
      await type('\x15modules.os.hostn\t', /hostname/, 'a module member to complete');
      await type('()\r', new RegExp(`'${hostname()}'`), 'the completed call to run');
      await type('shellV\t', /shellVar/, 'a let binding of the remote scope to complete');
      await type('\x15typeof shellVar.alphab\t', /alphabet/, 'a member after a keyword to complete');
      input.write('\x15.exit\r');
      assert.deepEqual(await within(session, 10_000, 'interact to resolve after .exit'), { errors: 0 });
    } finally {
      input.end();
      await c.close();
    }
  });

  it('completes remote names in a real terminal (tmux), keeps history, and leaves on .exit', async () => {
    const found = spawnSync('tmux', ['-V']);
    assert.ok(
      !found.error,
      'tmux is not installed: this test drives the shell in a real terminal with tmux send-keys and capture-pane ' +
        '(install it: apt-get install -y tmux)',
    );
    const dir = await mkdtemp(join(tmpdir(), 'netref-shell-'));
    const history = join(dir, 'history');
    // A tmux server of this test's own, on its own socket, so nothing else running tmux is touched.
    const tmux = (...args: string[]) => run('tmux', ['-L', `netref-test-${process.pid}`, ...args], { cwd: root });
    const screen = async () => (await tmux('capture-pane', '-p', '-t', 'shell', '-S', '-100')).stdout;
    const keys = (...k: string[]) => tmux('send-keys', '-t', 'shell', ...k);
    try {
      const command = `NETREF_SHELL_HISTORY='${history}' '${process.execPath}' --import tsx '${cli}' shell ${uri}`;
      await tmux('new-session', '-d', '-s', 'shell', '-x', '160', '-y', '50', '-c', root, command);
      await waitFor(screen, (s) => /^netref>\s*$/m.test(s), 'the prompt'); // capture-pane drops trailing spaces
      await keys('let termVar = { alpha: 1, alphabet: 2 }', 'Enter');
      await waitFor(screen, (s) => /^undefined$/m.test(s), 'the declaration to run');
      await keys('termVar.alphab', 'Tab');
      await waitFor(screen, (s) => /netref> termVar\.alphabet$/m.test(s), 'a member of a remote object to complete');
      await keys('Enter');
      await waitFor(screen, (s) => /^2$/m.test(s), 'the completed expression to run');
      await keys('modules.os.hostn', 'Tab');
      await waitFor(screen, (s) => /netref> modules\.os\.hostname$/m.test(s), 'a module member to complete');
      await keys('()', 'Enter');
      await waitFor(screen, (s) => s.includes(`'${hostname()}'`), 'the remote hostname');
      await keys('Up');
      await waitFor(
        screen,
        (s) => /netref> modules\.os\.hostname\(\)$/m.test(s),
        'history to bring the last line back',
      );
      await keys('C-u', '.exit', 'Enter');
      await waitFor(
        async () =>
          await tmux('has-session', '-t', 'shell').then(
            () => 'running',
            () => 'gone',
          ),
        (s) => s === 'gone',
        'the shell to end on .exit',
      );
      const saved = await readFile(history, 'utf8');
      assert.match(saved, /modules\.os\.hostname\(\)/);
      assert.match(saved, /let termVar/);
    } finally {
      await tmux('kill-server').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });
});
