// Network namespaces for the mDNS tests: nothing is ever multicast in the root namespace. Each pair is two fresh
// namespaces joined by a veth pair (the interfaces are made inside them), with addresses, `lo` up and a route for
// 224.0.0.0/4, ready once both ends have their carrier, and is removed at the end whatever happened. Needs root and iproute2; `netnsMissing()` says what is
// missing where they are not there, so a test can fail with that message instead of passing silently.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let counter = 0;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Namespaces made by this process and not removed yet: removed on exit and on SIGINT/SIGTERM too. */
const live = new Set<string>();
let exitHooked = false;

function removeNamespacesSync(names: Iterable<string>): void {
  for (const ns of [...names]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
    live.delete(ns);
  }
}

/**
 * A test process ended by the runner's timeout (SIGTERM) never runs its `after` hooks: remove its namespaces
 * before it goes, then let the signal end it as it would have.
 */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => removeNamespacesSync(live));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeNamespacesSync(live);
      process.kill(process.pid, signal);
    });
  }
}

/**
 * Removes namespaces this file's naming left behind (`nr<pid>x<n>a|b`, and the example's `nrex<pid>a|b`) whose
 * process is gone: a test process killed with SIGKILL cannot clean up after itself.
 */
function removeStaleNamespaces(): void {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const m = /^nr(?:ex)?(\d+)(?:x\d+)?[ab]$/.exec(ns);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') removeNamespacesSync([ns]);
    }
  }
}

/** Why network namespaces cannot be used here, or undefined when they can (it makes and removes one to know). */
export function netnsMissing(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (`ip netns add` is refused to other users)';
  const probe = `nrprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') return 'the `ip` command (iproute2) is not installed: apt-get install iproute2';
    return `\`ip netns add\` failed: ${e.stderr?.toString().trim() || e.message}`;
  }
  removeNamespacesSync([probe]);
  removeStaleNamespaces();
  return undefined;
}

/**
 * Waits (bounded) until `side`'s veth end has its carrier, which comes some 100s of ms after `ip link set up`: until
 * then the interface is not listed by os.networkInterfaces() (libuv leaves out interfaces not running), so a child
 * started meanwhile would join the mDNS group on loopback only and hear nothing on the link for 5 s.
 */
function waitRunning(side: Side, ms = 10_000): void {
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const state = execFileSync('ip', ['-n', side.ns, '-o', 'link', 'show', 'dev', side.ifname], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (/\bstate UP\b/.test(state) && !/NO-CARRIER/.test(state)) return;
    if (Date.now() > deadline) throw new Error(`${side.ifname} in ${side.ns} is not up within ${ms} ms: ${state}`);
    Atomics.wait(pause, 0, 0, 10); // the constructor is synchronous: poll every 10 ms
  }
}

/** One namespace of a pair, with the address of its end of the link. */
export interface Side {
  ns: string;
  ifname: string;
  address: string;
}

/** A running child in a namespace, its output gathered line by line. */
export interface NsChild {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  /** The next stdout line matching `re` (bounded). */
  line(re: RegExp, ms?: number): Promise<string>;
  /** The exit code and signal (bounded; kills by PID with SIGKILL past the bound). */
  exited(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Two namespaces on one link (10.77.N.1 and 10.77.N.2), each with its own processes. */
export class NetnsPair {
  readonly a: Side;
  readonly b: Side;
  readonly #children = new Set<ChildProcess>();
  readonly #namespaces: string[] = [];

  /**
   * `multicastRoute: false` leaves out the 224.0.0.0/4 route (and there is no default route). `carrier: false` leaves
   * a's end of the link down, so b's end is up with no carrier, as a link still coming up is.
   */
  constructor(options: { multicastRoute?: boolean; carrier?: boolean } = {}) {
    const n = ++counter;
    const tag = `${process.pid}x${n}`;
    const subnet = `10.77.${(process.pid + n) % 250}`;
    this.a = { ns: `nr${tag}a`, ifname: `v${tag}a`, address: `${subnet}.1` };
    this.b = { ns: `nr${tag}b`, ifname: `v${tag}b`, address: `${subnet}.2` };
    try {
      hookExit();
      for (const side of [this.a, this.b]) {
        ip('netns', 'add', side.ns);
        this.#namespaces.push(side.ns);
        live.add(side.ns);
      }
      // Made inside the namespaces: the root namespace never sees these interfaces.
      ip(
        'link',
        'add',
        this.a.ifname,
        'netns',
        this.a.ns,
        'type',
        'veth',
        'peer',
        'name',
        this.b.ifname,
        'netns',
        this.b.ns,
      );
      for (const side of [this.a, this.b]) {
        ip('-n', side.ns, 'addr', 'add', `${side.address}/24`, 'dev', side.ifname);
        ip('-n', side.ns, 'link', 'set', 'lo', 'up');
        if (options.carrier === false && side === this.a) continue;
        ip('-n', side.ns, 'link', 'set', side.ifname, 'up');
        if (options.multicastRoute !== false) ip('-n', side.ns, 'route', 'add', '224.0.0.0/4', 'dev', side.ifname);
      }
      if (options.carrier !== false) for (const side of [this.a, this.b]) waitRunning(side);
    } catch (error) {
      this.#removeNamespaces();
      throw error;
    }
  }

  /** Runs `node --import tsx SCRIPT ...args` inside `side`'s namespace, from the repository root. */
  run(side: Side, script: string, args: string[] = []): NsChild {
    return this.spawn(side, process.execPath, ['--import', 'tsx', script, ...args]);
  }

  /** Runs any command inside `side`'s namespace, from the repository root. */
  spawn(side: Side, command: string, args: string[] = []): NsChild {
    const child = spawn('ip', ['netns', 'exec', side.ns, command, ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    const lines: string[] = [];
    const waiters = new Set<() => void>();
    let err = '';
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
      for (const w of waiters) w();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
    let seen = 0;
    return {
      child,
      lines,
      stderr: () => err,
      line(re, ms = 30_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            for (; seen < lines.length; seen++) {
              if (re.test(lines[seen]!)) {
                done();
                resolve(lines[seen++]!);
                return;
              }
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`no line matching ${re} within ${ms} ms\nstdout:\n${lines.join('\n')}\nstderr:\n${err}`));
          }, ms);
          const onExit = () => {
            check();
            done();
            reject(new Error(`exited before a line matching ${re}\nstdout:\n${lines.join('\n')}\nstderr:\n${err}`));
          };
          const done = () => {
            clearTimeout(timer);
            waiters.delete(check);
            child.off('close', onExit);
          };
          waiters.add(check);
          child.once('close', onExit);
          check();
        });
      },
      async exited(ms = 30_000) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
        const result = await Promise.race([exit, late.then(() => undefined)]);
        clearTimeout(timer);
        if (result) return result;
        kill(child);
        throw new Error(`the child (pid ${child.pid}) did not exit within ${ms} ms\nstderr:\n${err}`);
      },
    };
  }

  #removeNamespaces(): void {
    // Deleting a namespace removes its veth end, and with it the peer.
    removeNamespacesSync(this.#namespaces.splice(0));
  }

  /** Ends every child this pair started (by PID), waits for them, and removes the namespaces. */
  async close(): Promise<void> {
    const waits = [...this.#children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          kill(child);
        }),
    );
    await Promise.all(waits);
    this.#removeNamespaces();
  }
}

/** Ends a child this file started, by its PID (`ip netns exec` execs the command: the PID is node's own). */
function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // it exited meanwhile
  }
}
