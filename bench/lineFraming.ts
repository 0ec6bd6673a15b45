import type net from 'node:net';

/**
 * Newline framing for the peers' JSON over TCP: JSON.stringify never emits a raw newline, so one line is one
 * message. Calls `onLine` with each complete line, in order.
 */
export function onLines(socket: net.Socket, onLine: (line: string) => void): void {
  let rest = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let text = rest + chunk;
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      onLine(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    rest = text;
  });
}

/** A Cap'n Web string transport over a socket, newline-framed; `receive` rejects once the socket closed. */
export function lineTransport(socket: net.Socket): {
  send(message: string): void;
  receive(): Promise<string>;
  abort(): void;
} {
  const queued: string[] = [];
  const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  let closed: Error | undefined;
  onLines(socket, (line) => {
    const w = waiting.shift();
    if (w) w.resolve(line);
    else queued.push(line);
  });
  socket.on('close', () => {
    closed = new Error('the socket closed');
    for (const w of waiting.splice(0)) w.reject(closed);
  });
  socket.on('error', () => socket.destroy());
  return {
    send: (message) => {
      socket.write(`${message}\n`);
    },
    receive: () => {
      const line = queued.shift();
      if (line !== undefined) return Promise.resolve(line);
      if (closed) return Promise.reject(closed);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    abort: () => socket.destroy(),
  };
}
