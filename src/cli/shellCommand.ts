import { parseArgs } from 'node:util';
import { classic, type ConnectOptions } from '../connect/index.js';
import { interact } from '../helpers/index.js';
import { clientAuthFromFlags } from './clientAuthFromFlags.js';

const DEFAULT_URI = 'tcp://127.0.0.1:18812';

const USAGE = `usage: netref shell [URI] [--network-key B64 --server-key B64 [--key FILE]]

An interactive shell whose code runs on a classic server (netref classic): expressions and statements, top-level
await, variables that persist, results printed as the server prints them, Tab completion of remote names,
\`modules.NAME\` to import there. With input on a pipe it runs it as a script and prints each result; the exit code
is then 1 if any input failed.

  URI                  tcp://HOST:PORT, unix://PATH or mdns://NAME (default ${DEFAULT_URI})
  --network-key B64    the secure channel's network key (with --server-key)
  --server-key B64     the server's public key, as it prints it (with --network-key)
  --key FILE           own keys, as netref keygen writes them (default: a fresh pair for this run)
  --help, -h           this text`;

/**
 * `netref shell [URI]`: connects to a classic server and runs `interact` on this terminal (or on piped input).
 * Returns the exit code: 0; 1 when the connection fails or breaks, or when an input of a script failed; 2 for a
 * mistake on the command line. Messages go to stderr, prefixed `netref shell:`.
 */
export async function shellCommand(args: string[]): Promise<number> {
  let uri: string;
  let auth: ConnectOptions['auth'];
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: 'string' },
        'network-key': { type: 'string' },
        'server-key': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new Error(`takes one URI, got ${positionals.length}`);
    uri = positionals[0] ?? DEFAULT_URI;
    auth = clientAuthFromFlags({ key: values.key, networkKey: values['network-key'], serverKey: values['server-key'] });
  } catch (error) {
    console.error(`netref shell: ${(error as Error).message}\n(see netref shell --help)`);
    return 2;
  }

  let conn;
  try {
    conn = await classic.connect(uri, auth ? { auth } : {});
  } catch (error) {
    console.error(`netref shell: cannot connect to ${uri}: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
  try {
    const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    if (terminal) console.log(`connected to ${uri}; code runs there. .exit or Ctrl+D to leave, Tab completes.`);
    const { errors } = await interact(conn, { terminal });
    return !terminal && errors > 0 ? 1 : 0;
  } catch (error) {
    console.error(`netref shell: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  } finally {
    await conn.close();
  }
}
