// The baseline's server: echoes each length-prefixed frame the moment it is complete (the frames of one read with
// one write). Run as a child process.
import net from 'node:net';
import { FrameReader } from './frames.js';
import { announceReady } from './serverLifetime.js';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  const reader = new FrameReader();
  const echo = (frame: Buffer) => socket.write(frame);
  socket.on('data', (chunk: Buffer) => {
    try {
      // The frames of one read are echoed with one write, as netref answers them.
      socket.cork();
      reader.push(chunk, echo);
      socket.uncork();
    } catch (error) {
      console.error('rawServer:', (error as Error).message);
      socket.destroy();
    }
  });
  // The client going away mid-write is expected at the end of a run.
  socket.on('error', () => socket.destroy());
});

server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('rawServer: no TCP address');
  announceReady(address.port);
});
