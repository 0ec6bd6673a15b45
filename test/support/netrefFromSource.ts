// The `netref` command run from the sources, for tests: `node --import tsx test/support/netrefFromSource.ts ARGS`.
// `shell` goes straight to src/cli/shellCommand.ts, so it works whether or not src/cli/main.ts dispatches it yet.
import { main } from '../../src/cli/main.js';
import { shellCommand } from '../../src/cli/shellCommand.js';

const [command, ...rest] = process.argv.slice(2);
process.exitCode = command === 'shell' ? await shellCommand(rest) : await main(process.argv.slice(2));
// As bin/netref.js: once the command is done, do not wait long on handles a served module left behind.
setTimeout(() => process.exit(), 1000).unref();
