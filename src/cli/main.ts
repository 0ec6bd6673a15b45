import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../protocol/index.js';
import { serveCommand } from './serveCommand.js';
import { UsageError } from './serveOptions.js';

const SERVE_OPTIONS = `  --host H             interface to bind (default 127.0.0.1)
  --port P             TCP port (default 18812; 0 picks a free one)
  --path SOCK          a Unix socket instead of TCP
  --stdio              serve one connection on stdin/stdout (for connectSubproc, ssh)
  --mode M             event (default), threaded (a worker pool) or forking (a child per connection)
  --workers N          threads of --mode threaded (default: the core count)
  --max-connections N  refuse clients beyond N
  --insecure           allow classic mode on a non-loopback address without an authenticator`;

const USAGE = `usage: netref <command> [options]

commands:
  classic [options]                 serve the whole runtime (RPyC classic), on 127.0.0.1:18812 by default
  serve MODULE[#Export] [options]   serve your own Service (default export when #Export is left out)
  shell       interactive remote shell (planned)
  discover    list services on the LAN (planned)
  keygen      make keys for the secure channel (planned)

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
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(`netref ${pkg.version} (protocol ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor})`);
    return 0;
  }
  if (command === 'serve' || command === 'classic') {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
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
  if (['shell', 'discover', 'keygen'].includes(command)) {
    console.error(`netref ${command}: not built yet in this version (see the project's issues)`);
    return 2;
  }
  console.error(`netref: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}
