import type { ChildProcess } from 'node:child_process';
import { ConnectionClosedError, NetrefError, ProtocolError, TimeoutError, type PeerInfo } from '../core/index.js';
import { exitText, forkChild, hasExited, sendTo } from './forkChild.js';
import { isFromChild, type FromChild, type ServeMessage, type ToChild } from './forkMessages.js';
import { IpcStream, type IpcSend } from './IpcStream.js';
import type { Accepted, Served } from './ServerBase.js';

/** A client served in a child process, as ForkingServer's `connection` and `disconnect` events report it. */
export interface ForkedConnection {
  /** Unique in this process: `f1`, `f2`… (the Connection inside the child has an id of its own). */
  readonly id: string;
  /** The child process serving the client. */
  readonly pid: number;
  /** Who the client is: transport, address and port, and the authenticator's credentials. */
  readonly peer: PeerInfo;
}

/** What a ForkedClient needs from its server. */
export interface ForkedClientSetup {
  service: { module: string; export: string };
  /** True when the client's stream must stay in this process (an authenticator's); its bytes then go over IPC. */
  bridged: boolean;
  /** How long a child told to close may take to exit before it is killed. */
  exitTimeout: number;
  /** How long a new child may take to load the service before it is killed (and its client dropped). */
  loadTimeout: number;
  /** The serve message, made when the child has loaded the service (so it carries what is published by then). */
  serveMessage(): Omit<ServeMessage, 'netref' | 'info' | 'credentials' | 'bridged'>;
  onConnected(connection: ForkedConnection): void;
  /** The child has exited: `reason` is why the connection ended, `crash` is set when the child failed. */
  onExit(connection: ForkedConnection, reason: Error | undefined, crash: Error | undefined): void;
}

/** How the child's close reasons come back: as the same classes where netref has them. */
const reasonClasses: Record<string, new (message: string) => Error> = {
  ConnectionClosedError,
  ProtocolError,
  TimeoutError,
};

let nextId = 1;

/**
 * One client of a ForkingServer, served by a child process of its own. The accepted socket, never read here, is
 * handed to the child once it has loaded the service; with an authenticator, the authenticated stream stays here
 * and its bytes are relayed over IPC (a socket this process has read from cannot move: Node drops what the old
 * handle reads while the handle is in flight). The child ends with its connection; `done` resolves once it has
 * exited, and everything of the client here is released.
 */
export class ForkedClient implements Served {
  readonly connection: ForkedConnection;
  readonly done: Promise<void>;
  readonly #child: ChildProcess;
  readonly #send: IpcSend;
  readonly #accepted: Accepted;
  readonly #setup: ForkedClientSetup;
  #state: 'loading' | 'serving' | 'exited' = 'loading';
  #closing = false;
  /** Closed before it was given the client: its exit is the expected one. */
  #closedEarly = false;
  #killed = false;
  #killTimer: NodeJS.Timeout | undefined;
  #loadTimer: NodeJS.Timeout | undefined;
  #ipc: IpcStream | undefined;
  #closedSeen = false;
  #reason: Error | undefined;
  #failure: string | undefined;

  /** Throws when no child process could be started (the caller drops the client). */
  constructor(accepted: Accepted, setup: ForkedClientSetup) {
    this.#accepted = accepted;
    this.#setup = setup;
    const child = forkChild(setup.service);
    child.on('error', (error) => {
      this.#failure ??= `the child process failed: ${error.message}`;
    });
    if (child.pid === undefined) throw new NetrefError(`cannot start a child process for ${setup.service.module}`);
    this.#child = child;
    this.#send = sendTo(child);
    const { info, credentials, stream } = accepted;
    this.connection = Object.freeze({
      id: `f${nextId++}`,
      pid: child.pid,
      peer: Object.freeze({
        transport: info.transport,
        ...(info.remoteAddress !== undefined ? { address: info.remoteAddress } : {}),
        ...(info.remotePort !== undefined ? { port: info.remotePort } : {}),
        ...(credentials !== undefined ? { credentials } : {}),
      }),
    });
    // Bytes the client sends before the child is ready wait in the stream (or, unread, in the kernel).
    if (setup.bridged) {
      stream.pause();
      stream.on('error', () => {}); // a broken client stream ends the relay ('close'); it must not crash us
    }
    child.on('message', this.#onMessage);
    this.#loadTimer = setTimeout(
      () => this.#fail(`it did not load the service within ${setup.loadTimeout} ms`),
      setup.loadTimeout,
    );
    this.done = new Promise((resolve) => {
      // 'close' comes after both the exit and the end of the IPC channel, so every message is in by then.
      child.once('close', () => {
        this.#onExit();
        resolve();
      });
    });
  }

  /** Tells the child to close its connection (the client's pending calls reject); kills it if it lingers. */
  close(): Promise<void> {
    if (this.#state === 'exited' || this.#closing) return this.done;
    this.#closing = true;
    if (this.#state === 'loading') {
      this.#closedEarly = true;
      // Not serving yet: it exits when disconnected (forkEntry), and the client's socket is dropped here.
      if (this.#child.connected) this.#child.disconnect();
    } else {
      this.#tell({ netref: 'close' });
    }
    this.#killTimer = setTimeout(() => {
      this.#killed = true;
      this.#child.kill('SIGKILL');
    }, this.#setup.exitTimeout);
    return this.done;
  }

  /** Passes a newly published value to a child that is serving (one still loading gets it with `serve`). */
  publish(name: string, value: unknown): void {
    if (this.#state === 'serving') this.#tell({ netref: 'publish', name, value });
  }

  #tell(message: ToChild, then: (error: Error | null) => void = () => {}): void {
    this.#send(message, then);
  }

  #onMessage = (m: unknown): void => {
    if (!isFromChild(m)) return;
    this.#handle(m);
  };

  #handle(m: FromChild): void {
    switch (m.netref) {
      case 'loaded':
        clearTimeout(this.#loadTimer);
        if (this.#closing) {
          if (this.#child.connected) this.#child.disconnect();
        } else this.#serve();
        break;
      case 'failed':
        this.#failure = `it could not load the service: ${m.message}`;
        break;
      case 'connected':
        this.#setup.onConnected(this.connection);
        break;
      case 'closed': {
        this.#closedSeen = true;
        if (m.reason) {
          const Class = reasonClasses[m.reason.name] ?? NetrefError;
          this.#reason = new Class(m.reason.message);
        }
        break;
      }
    }
  }

  #serve(): void {
    const { socket, stream, info, credentials } = this.#accepted;
    const bridged = this.#setup.bridged;
    const message: ServeMessage = {
      netref: 'serve',
      ...this.#setup.serveMessage(),
      info,
      ...(credentials !== undefined ? { credentials } : {}),
      bridged,
    };
    this.#state = 'serving';
    if (!bridged) {
      // The socket's handle moves to the child; here the socket is closed once the child has it.
      const handedOver = (error: Error | null) => {
        if (error) this.#fail(`the client's socket could not be handed to it: ${error.message}`);
      };
      try {
        this.#child.send(message, socket, handedOver);
      } catch (error) {
        handedOver(error as Error); // a published value or credential that cannot be copied
      }
      return;
    }
    this.#tell(message, (error) => {
      if (error) this.#fail(`it could not be told to serve: ${error.message}`);
    });
    const ipc = new IpcStream(this.#child, this.#send);
    this.#ipc = ipc;
    stream.pipe(ipc);
    ipc.pipe(stream);
    // A client stream that breaks or closes without ending still ends the child's side.
    stream.once('close', () => {
      if (!ipc.writableEnded) ipc.end();
    });
  }

  #fail(why: string): void {
    this.#failure ??= why;
    if (!hasExited(this.#child)) this.#child.kill('SIGKILL');
  }

  #onExit(): void {
    this.#state = 'exited';
    clearTimeout(this.#killTimer);
    clearTimeout(this.#loadTimer);
    this.#child.off('message', this.#onMessage);
    const { socket, stream } = this.#accepted;
    this.#ipc?.destroy();
    if (this.#setup.bridged && this.#closedSeen && !stream.destroyed) {
      // The child closed in order: let the client's last bytes (the goodbye) leave, within bounds.
      if (!stream.writableEnded) stream.end();
      const t = setTimeout(() => stream.destroy(), 2000);
      t.unref();
      stream.once('close', () => {
        clearTimeout(t);
        socket.destroy();
      });
    } else {
      stream.destroy();
      socket.destroy();
    }
    const crash = this.#crash();
    this.#setup.onExit(this.connection, crash ?? this.#reason, crash);
  }

  /** Why the child's end was a failure, or undefined when it ended in order. */
  #crash(): Error | undefined {
    const { id, pid, peer } = this.connection;
    const who = `the child process ${pid} serving ${id}${peer.address ? ` (${peer.address}:${peer.port})` : ''}`;
    if (this.#failure) return new NetrefError(`${who} failed: ${this.#failure}`);
    if (this.#killed) {
      return new NetrefError(`${who} did not exit within ${this.#setup.exitTimeout} ms of being told to close`);
    }
    const child = this.#child;
    if (child.exitCode === 0 && (this.#closedSeen || this.#closedEarly)) return undefined;
    return new ConnectionClosedError(
      `${who} ${exitText(child)}${this.#closedSeen ? '' : ' before its connection closed'}`,
    );
  }
}
