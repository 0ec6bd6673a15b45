// A peer library's server over TCP, in its own process like netref's: birpc or Cap'n Web (PEER=birpc|capnweb),
// JSON messages one per line. Run as a child process.
import net from 'node:net';
import { createBirpc } from 'birpc';
import { RpcSession, RpcTarget } from 'capnweb';
import { lineTransport, onLines } from './lineFraming.js';
import { announceReady } from './serverLifetime.js';

const peer = process.env.PEER;

interface BirpcClientSide {
  inc(i: number): number;
}

class CapnwebApi extends RpcTarget {
  add(a: number, b: number): number {
    return a + b;
  }

  /** W3, timed here as netref's is: the callback round trips alone. */
  async bounce(fn: (i: number) => Promise<number>, count: number): Promise<number> {
    const start = performance.now();
    for (let i = 0; i < count; i++) await fn(i);
    return (performance.now() - start) * 1000;
  }
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  if (peer === 'capnweb') {
    new RpcSession(lineTransport(socket), new CapnwebApi());
    return;
  }
  const rpc = createBirpc<BirpcClientSide, object>(
    {
      add: (a: number, b: number) => a + b,
      bounce: async (count: number) => {
        const start = performance.now();
        for (let i = 0; i < count; i++) await rpc.inc(i);
        return (performance.now() - start) * 1000;
      },
    },
    {
      post: (data: string) => socket.write(`${data}\n`),
      on: (fn) => onLines(socket, fn),
      serialize: JSON.stringify,
      deserialize: JSON.parse,
      timeout: 60_000,
    },
  );
});

if (peer !== 'birpc' && peer !== 'capnweb') throw new Error(`peerServer: PEER must be birpc or capnweb, got ${peer}`);
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('peerServer: no TCP address');
  announceReady(address.port);
});
