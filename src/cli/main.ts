import { readFileSync } from 'node:fs';
import { UsageError } from './UsageError.js';

// Each command's module is imported when that command runs: together they load the whole library, which `--help`,
// `--version` and a typo do not need, and `keygen` needs only its part.

const SERVE_OPTIONS = `  --host H             interface to bind (default 127.0.0.1)
  --port P             TCP port (default 18812; 0 picks a free one)
  --path SOCK          a Unix socket instead of TCP
  --stdio              serve one connection on stdin/stdout (for connectSubproc, ssh)
  --mode M             event (default), threaded (a worker pool) or forking (a child per connection)
  --workers N          threads of --mode threaded (default: the core count)
  --max-connections N  refuse clients beyond N
  --insecure           allow classic mode on a non-loopback address without an authenticator
  --key FILE           serve over the secure channel with these keys (as netref keygen --out writes them);
                       clients then need the network key and this server's public key (printed on stderr)
  --network-key B64    the deployment's 32-byte network key, base64 (required with --key; no default;
                       make one with: openssl rand -base64 32)
  --authorized-keys F  admit only the client public keys listed in F, one base64 key per line ('#' comments);
                       read once at start. Without it any client holding the network key is admitted.
                       The secure-channel options need a socket: not with --stdio.
  --register           announce the server on the LAN (mDNS _netref._tcp); withdrawn when it stops
  --registry HOST:PORT also register with a RegistryServer there (for networks that block multicast)`;

const USAGE = `usage: netref <command> [options]

commands:
  classic [options]                 serve the whole runtime (RPyC classic), on 127.0.0.1:18812 by default
  serve MODULE[#Export] [options]   serve your own Service (default export when #Export is left out)
  shell [URI] [--network-key B64 --server-key B64 [--key FILE]]
                                    an interactive shell running on a classic server (default tcp://127.0.0.1:18812)
  discover [NAME] [--timeout MS] [--all] [--registry HOST:PORT]
                                    list the netref services that answer on the LAN (or in a registry), as a table
  keygen [--out FILE [--force]]     make a key pair for the secure channel: with --out, write the key file
                                    (mode 0600; --force replaces an existing one) and print the public key
                                    (base64, one line); without --out, print the key file's JSON instead

options of classic and serve:
${SERVE_OPTIONS}

  --help, -h      this text
  --version, -v   the package and protocol versions`;

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    const { PROTOCOL_VERSION } = await import('../protocol/index.js');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(`netref ${pkg.version} (protocol ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor})`);
    return 0;
  }
  if (command === 'serve' || command === 'classic') {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    const { serveCommand } = await import('./serveCommand.js');
    try {
      return await serveCommand(command, rest);
    } catch (error) {
      if (error instanceof UsageError) {
        console.error(`netref ${command}: ${error.message}\n(see netref --help)`);
        return 2;
      }
      console.error(`netref ${command}: ${(error as Error)?.message ?? String(error)}`);
      return 1;
    }
  }
  if (command === 'keygen') {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    const { keygenCommand } = await import('./keygenCommand.js');
    try {
      return keygenCommand(rest);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      console.error(`netref keygen: ${error.message}\n(see netref --help)`);
      return 2;
    }
  }
  if (command === 'shell') {
    const { shellCommand } = await import('./shellCommand.js');
    return shellCommand(rest);
  }
  if (command === 'discover') {
    const { DISCOVER_USAGE, discoverCommand } = await import('./discoverCommand.js');
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(DISCOVER_USAGE);
      return 0;
    }
    try {
      return await discoverCommand(rest);
    } catch (error) {
      if (error instanceof UsageError) {
        console.error(`netref discover: ${error.message}\n${DISCOVER_USAGE}`);
        return 2;
      }
      console.error(`netref discover: ${(error as Error)?.message ?? String(error)}`);
      return 1;
    }
  }
  console.error(`netref: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}
