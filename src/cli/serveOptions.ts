import { integerFlag, parseFlags } from './flags.js';
import { UsageError } from './UsageError.js';

/** The options `netref serve` and `netref classic` share (DESIGN §3 "The command line"). */
export interface ServeFlags {
  host: string | undefined;
  port: number | undefined;
  path: string | undefined;
  stdio: boolean;
  mode: 'event' | 'threaded' | 'forking';
  workers: number | undefined;
  maxConnections: number | undefined;
  insecure: boolean;
  key: string | undefined;
  networkKey: string | undefined;
  authorizedKeys: string | undefined;
  register: boolean;
  registry: string | undefined;
  positionals: string[];
}

/** Parses the options of a serving command; throws UsageError naming what is wrong. */
export function parseServeFlags(args: string[]): ServeFlags {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      path: { type: 'string' },
      stdio: { type: 'boolean', default: false },
      mode: { type: 'string', default: 'event' },
      workers: { type: 'string' },
      'max-connections': { type: 'string' },
      insecure: { type: 'boolean', default: false },
      key: { type: 'string' },
      'network-key': { type: 'string' },
      'authorized-keys': { type: 'string' },
      register: { type: 'boolean', default: false },
      registry: { type: 'string' },
    },
  });
  const v = parsed.values;
  const mode = v.mode as string;
  if (mode !== 'event' && mode !== 'threaded' && mode !== 'forking') {
    throw new UsageError(`--mode is event, threaded or forking, got '${mode}'`);
  }
  if (v.stdio && (v.host !== undefined || v.port !== undefined || v.path !== undefined)) {
    throw new UsageError("--stdio serves on this process's stdin/stdout; it takes no --host, --port or --path");
  }
  if ((v.register || v.registry !== undefined) && (v.stdio || v.path !== undefined)) {
    throw new UsageError('--register and --registry announce a TCP port; they take no --stdio or --path');
  }
  if (v.stdio && mode !== 'event') {
    throw new UsageError(`--stdio serves one connection on this process; --mode ${mode} does not apply`);
  }
  if (v.stdio && (v.key !== undefined || v['network-key'] !== undefined || v['authorized-keys'] !== undefined)) {
    // Over stdio the peer is whoever started this process: there is no socket for a handshake to protect.
    throw new UsageError(
      '--stdio serves the process that started it; --key, --network-key and --authorized-keys need a socket ' +
        '(--port or --path)',
    );
  }
  if (v.path !== undefined && (v.host !== undefined || v.port !== undefined)) {
    throw new UsageError('--path (a Unix socket) takes no --host or --port');
  }
  return {
    host: v.host,
    port: integerFlag('port', v.port, 0, 65535),
    path: v.path,
    stdio: v.stdio!,
    mode,
    workers: integerFlag('workers', v.workers, 1, 1024),
    maxConnections: integerFlag('max-connections', v['max-connections'], 1, 1_000_000),
    insecure: v.insecure!,
    key: v.key,
    networkKey: v['network-key'],
    authorizedKeys: v['authorized-keys'],
    register: v.register!,
    registry: v.registry,
    positionals: parsed.positionals,
  };
}
