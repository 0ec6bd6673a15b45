import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netnsMissing } from './support/netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 60_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs `npm run example NAME` from the repository root. On Unix the command leads its own process group, so a
 * timeout ends it and everything it started (the example's own child processes included) by that PID.
 */
function runExample(name: string, args: string[] = []): Promise<Run> {
  const windows = process.platform === 'win32';
  const child = spawn(windows ? 'npm.cmd' : 'npm', ['run', 'example', name, ...(args.length ? ['--', ...args] : [])], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: !windows,
    shell: windows,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(windows ? child.pid! : -child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Whether `ip netns list` still shows a namespace. */
function namespaceExists(ns: string): boolean {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .some((line) => line.split(' ')[0] === ns);
}

/** True while a process with this PID exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('examples', () => {
  it(
    'both-ways: two processes call each other both ways, with callbacks and nested calls',
    { timeout: TIMEOUT_MS + 10_000 },
    async () => {
      const run = await runExample('both-ways');
      const report = `\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
      assert.equal(run.timedOut, false, `the example did not finish within ${TIMEOUT_MS} ms${report}`);
      assert.equal(run.code, 0, `exit code ${run.code} (signal ${run.signal})${report}`);

      const lines = run.stdout.split(/\r?\n/);
      const has = (re: RegExp) =>
        assert.ok(
          lines.some((l) => re.test(l)),
          `no line matches ${re}${report}`,
        );
      const started = /^\[main\] started peer\.ts as pid (\d+); it listens on tcp:\/\/127\.0\.0\.1:\d+$/;
      const peerPid = Number(lines.map((l) => started.exec(l)?.[1]).find((p) => p !== undefined));
      assert.ok(peerPid > 0, `no line says which pid the peer has${report}`);

      has(new RegExp(`^\\[main\\] main\\.hello\\(\\) was called by peer \\(pid ${peerPid}\\)$`));
      has(new RegExp(`^\\[main\\] peer\\.greet\\('main'\\) -> "hello main, this is peer \\(pid ${peerPid}\\)"$`));
      has(/^\[peer\] whoAmI: asking main\.identify\(\) before answering$/);
      has(/^\[main\] peer\.whoAmI\(\) -> "you are main \(pid \d+\)"$/);
      for (const n of [3, 2, 1]) has(new RegExp(`^\\[main\\] onTick\\(${n}\\) runs in main`));
      has(/^\[peer\] countdown: onTick\(1\) answered "ignition"$/);
      has(/^\[main\] peer\.countdown\(3, onTick\) -> "liftoff"$/);
      has(/^\[main\] +bounce\(0\): bottom reached$/);
      has(
        /^\[main\] call chain: main -> peer\.bounce\(3\) -> main\.bounce\(2\) -> peer\.bounce\(1\) -> main\.bounce\(0\)$/,
      );
      has(new RegExp(`^\\[main\\] peer \\(pid ${peerPid}\\) exited with code 0$`));
      assert.equal(lines.filter((l) => l !== '').at(-1), 'done', `the last line is not 'done'${report}`);

      // The nested chain is printed in the order the calls happened, each level by the process that ran it.
      const chain = lines.filter((l) => /bounce\(\d\): (calling|bottom)/.test(l));
      assert.deepEqual(
        chain.map((l) => l.replace(/\s+/g, ' ')),
        [
          '[peer] bounce(3): calling main.bounce(2)',
          '[main] bounce(2): calling peer.bounce(1)',
          '[peer] bounce(1): calling main.bounce(0)',
          '[main] bounce(0): bottom reached',
        ],
        report,
      );
      assert.equal(alive(peerPid), false, `the peer (pid ${peerPid}) is still running`);
    },
  );

  it(
    'subprocess-workers: a pool of connectSubproc workers shares a CPU-heavy job',
    { timeout: TIMEOUT_MS + 10_000 },
    async () => {
      const run = await runExample('subprocess-workers', ['1500000']);
      const report = `\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
      assert.equal(run.timedOut, false, `the example did not finish within ${TIMEOUT_MS} ms${report}`);
      assert.equal(run.code, 0, `exit code ${run.code} (signal ${run.signal})${report}`);
      const ready = /^workers ready: pids ([\d, ]+)$/m.exec(run.stdout);
      assert.ok(ready, `no line lists the worker pids${report}`);
      const pids = ready[1]!.split(', ').map(Number);
      assert.ok(pids.length >= 2 && new Set(pids).size === pids.length, `distinct worker processes${report}`);
      // 114155 primes below 1.5 million, counted alike by one worker and by the pool.
      assert.match(run.stdout, /^1 worker: +114155 primes below 1500000 in \d+ ms$/m, report);
      assert.match(run.stdout, /^\d+ workers: 114155 primes below 1500000 in \d+ ms$/m, report);
      assert.match(run.stdout, /^speed-up: \d+\.\d\dx with \d+ workers$/m, report);
      assert.match(run.stdout, new RegExp(`^all ${pids.length} workers have exited$`, 'm'), report);
      for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} is still running`);
    },
  );

  it(
    'remote-shell: netref shell runs a piped script on a classic server, printing results and a remote stack',
    { timeout: TIMEOUT_MS + 10_000 },
    async () => {
      const run = await runExample('remote-shell');
      const report = `\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
      assert.equal(run.timedOut, false, `the example did not finish within ${TIMEOUT_MS} ms${report}`);
      assert.equal(run.code, 0, `exit code ${run.code} (signal ${run.signal})${report}`);
      const started = /^started netref classic as pid (\d+); it listens on tcp:\/\/127\.0\.0\.1:\d+$/m.exec(run.stdout);
      assert.ok(started, `no line says which pid the server has${report}`);
      const pid = Number(started[1]);
      const output = run.stdout.slice(run.stdout.indexOf('and prints one result per input'));
      const results = output
        .split('\n')
        .slice(1, 13)
        .map((l) => l.replace(/^ {2}/, ''));
      assert.deepEqual(
        results.slice(0, 4),
        ['undefined', '2', 'undefined', `'hello from pid ${pid}'`],
        `a variable persists and top-level await works, in the server's process${report}`,
      );
      assert.equal(results[4], `'${hostname()}'`, `modules.os.hostname() ran on the server${report}`);
      assert.equal(results[6], 'printed by the server, visits = 2', `the server's console.log shows${report}`);
      assert.equal(results[9], 'Uncaught RangeError: cannot divide 2 by zero', report);
      assert.match(results[10]!, /^ {4}at divide \(netref-classic:2:\d+\)$/, `the remote stack follows${report}`);
      assert.match(run.stdout, /^netref shell exited with code 1: one input failed, as planned$/m, report);
      assert.match(run.stdout, new RegExp(`^netref classic \\(pid ${pid}\\) exited with code 0$`, 'm'), report);
      assert.equal(run.stdout.trimEnd().split('\n').at(-1), 'done', `the last line is not 'done'${report}`);
      assert.equal(alive(pid), false, `the server (pid ${pid}) is still running`);
    },
  );
  it(
    'lan-discovery: a service announced in one network namespace is found and called by name from another',
    { timeout: TIMEOUT_MS + 10_000 },
    async () => {
      const missing = netnsMissing();
      assert.equal(missing, undefined, `this example runs across network namespaces here: ${missing}`);
      const run = await runExample('lan-discovery', ['--netns']);
      const report = `\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
      assert.equal(run.timedOut, false, `the example did not finish within ${TIMEOUT_MS} ms${report}`);
      assert.equal(run.code, 0, `exit code ${run.code} (signal ${run.signal})${report}`);
      const made = /^\[main\] made network namespaces (\S+) \((\S+)\) and (\S+) \((\S+)\)/m.exec(run.stdout);
      assert.ok(made, `no line names the namespaces${report}`);
      const [, nsA, addressA] = made;
      const announced = /^\[service\] announced '(GREETER on [^']+)' on port (\d+)$/m.exec(run.stdout);
      assert.ok(announced, `no line says what was announced${report}`);
      const [, instance, port] = announced;
      assert.match(
        run.stdout,
        /^\[client\] discover\('greeter'\) found 1 service\(s\), the first answer after [\d.]+ ms:$/m,
      );
      assert.ok(
        run.stdout.includes(`[client]   ${instance}  names=GREETER,HELLO  `) &&
          run.stdout.includes(`:${port}  addresses=${addressA}`),
        `the answer lists the service at ${addressA}:${port} first${report}`,
      );
      assert.ok(run.stdout.includes(`[client] connectByService('greeter') connected to ${addressA}:${port}`), report);
      assert.match(run.stdout, /^\[client\] greet\('lan-discovery'\) -> "hello lan-discovery, this is GreeterService/m);
      assert.ok(run.stdout.includes(`'${instance}' no longer answers`), `the goodbye was not seen${report}`);
      assert.match(run.stdout, /^\[main\] removed the network namespaces$/m);
      assert.equal(run.stdout.trimEnd().split('\n').at(-1), 'done', `the last line is not 'done'${report}`);
      assert.equal(namespaceExists(nsA!), false, `the namespace ${nsA} was left behind`);
    },
  );
});
