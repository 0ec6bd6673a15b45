import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../protocol/index.js';

const USAGE = `usage: netref <command> [options]

commands (DESIGN §3):
  classic     serve the whole runtime (planned)
  serve       serve your own Service (planned)
  shell       interactive remote shell (planned)
  discover    list services on the LAN (planned)
  keygen      make keys for the secure channel (planned)

options:
  --help, -h      this text
  --version, -v   the package and protocol versions`;

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(`netref ${pkg.version} (protocol ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor})`);
    return 0;
  }
  if (['classic', 'serve', 'shell', 'discover', 'keygen'].includes(command)) {
    console.error(`netref ${command}: not built yet in this version (see the project's issues)`);
    return 2;
  }
  console.error(`netref: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}
