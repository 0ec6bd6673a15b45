// The service side of the lan-discovery example: serves GreeterService on every interface, on a free port, and
// announces it on the LAN (mDNS `_netref._tcp`, names GREETER and HELLO). Prints `announced 'NAME' on port PORT`
// when ready; withdraws the announcement (goodbye packets) and stops when its stdin ends. SIGINT/SIGTERM withdraw
// it too, and then end the process as they normally would.
import os from 'node:os';
import { announce, Server, Service } from 'netref';

export class GreeterService extends Service {
  static override aliases = ['HELLO'];

  greet(name: string): string {
    return `hello ${name}, this is GreeterService on ${os.hostname()} (pid ${process.pid})`;
  }
}

const server = new Server(GreeterService, { host: '0.0.0.0', port: 0 });
await server.start();
const announcement = await announce(GreeterService, { port: server.port! });
announcement.on('error', (e) => console.error(`[service] announcement problem: ${e.message}`));
console.log(`announced '${announcement.name}' on port ${server.port}`);

process.stdin.resume();
process.stdin.on('end', async () => {
  await announcement.close();
  await server.close();
  console.log('withdrawn: goodbye packets sent, server closed');
});
