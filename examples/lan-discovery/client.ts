// The client side of the lan-discovery example: finds GREETER on the LAN with no address given, shows what
// answered, connects by name and calls it. `check INSTANCE` looks again, after the service has withdrawn.
// Run as `client.ts call` or `client.ts check INSTANCE` (main.ts does so inside a network namespace), or import it.
import { fileURLToPath } from 'node:url';
import { connectByService, discover, type DiscoveredService } from 'netref';

const NAME = 'greeter';

function table(services: DiscoveredService[]): string {
  return services
    .map((s) => `  ${s.name}  names=${s.names.join(',')}  ${s.host}:${s.port}  addresses=${s.addresses.join(',')}`)
    .join('\n');
}

/** Discovers GREETER (printing how long the first answer took), connects to it by name and calls greet(). */
export async function findAndCall(say: (line: string) => void): Promise<void> {
  const started = performance.now();
  let first: number | undefined;
  const found = await discover(NAME, { timeout: 1500, onAnswer: () => (first ??= performance.now() - started) });
  if (found.length === 0) throw new Error(`no ${NAME.toUpperCase()} answered on the LAN`);
  say(`discover('${NAME}') found ${found.length} service(s), the first answer after ${first!.toFixed(1)} ms:`);
  say(table(found));
  const conn = await connectByService(NAME);
  try {
    say(`connectByService('${NAME}') connected to ${conn.peer.address}:${conn.peer.port}`);
    say(`greet('lan-discovery') -> ${JSON.stringify(await conn.root.greet('lan-discovery'))}`);
  } finally {
    await conn.close();
  }
}

/** Discovers GREETER again: after its goodbye, the instance `instance` no longer answers. */
export async function checkGone(instance: string, say: (line: string) => void): Promise<void> {
  const found = (await discover(NAME, { timeout: 1000 })).filter((s) => s.name === instance);
  if (found.length) throw new Error(`still found after the goodbye:\n${table(found)}`);
  say(`discover('${NAME}') after the goodbye: '${instance}' no longer answers`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const say = (line: string) => console.log(line);
  const step = process.argv[2] === 'check' ? checkGone(process.argv[3]!, say) : findAndCall(say);
  step.catch((error) => {
    console.error(`client: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
