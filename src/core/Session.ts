import type { Channel } from '../channel/index.js';
import {
  AttributeError,
  checkHello,
  ConnectionClosedError,
  decode,
  encode,
  Flags,
  FLAGS_OFFSET,
  makeHello,
  MessageKind,
  NetrefError,
  ProtocolError,
  TimeoutError,
} from '../protocol/index.js';
import { readPath } from './accessCheck.js';
import { box, unbox, type BoxContext } from './boxing.js';
import type { Connection } from './Connection.js';
import type { CallContext } from './currentCall.js';
import { checkRequest, prepare, run, type Job } from './Dispatcher.js';
import { asError, errorToWire } from './errorCodec.js';
import { ExportTable } from './ExportTable.js';
import { Heartbeat, type HeartbeatOptions } from './Heartbeat.js';
import { ImportTable } from './ImportTable.js';
import { KeptAnswers } from './KeptAnswers.js';
import { label, makeNetref, nodeOf, type Base, type Node, type OutCall } from './netref.js';
import { OpenIterators } from './OpenIterators.js';
import { Outbox } from './Outbox.js';
import { PendingCall } from './PendingCall.js';
import type { ProtocolConfig } from './ProtocolConfig.js';
import { RemoteIterator, type ChunkOptions } from './RemoteIterator.js';
import { replay } from './replay.js';

/** `copy` is a GET with the COPY flag (`obtain`); `iterate` carries `[action, count]` (`for await`). */
export type Op = 'call' | 'get' | 'set' | 'del' | 'lookup' | 'iterate' | 'describe' | 'copy';
const KIND: Record<Op, number> = {
  call: MessageKind.CALL,
  get: MessageKind.GET,
  set: MessageKind.SET,
  del: MessageKind.DEL,
  lookup: MessageKind.LOOKUP,
  iterate: MessageKind.ITERATE,
  describe: MessageKind.DESCRIBE,
  copy: MessageKind.GET,
};
/** Requests a peer may not know: each is sent only to a peer whose hello lists its feature. */
const FEATURE: Partial<Record<Op, string>> = { iterate: 'iterate', describe: 'describe', copy: 'copy' };
const WHAT: Record<string, string> = {
  iterate: 'remote iteration',
  describe: 'describe()',
  copy: 'obtain() (copies by value)',
};

export type { HeartbeatOptions } from './Heartbeat.js';

export interface SessionOptions {
  config: ProtocolConfig;
  heartbeat?: HeartbeatOptions | false;
  /** Objects published on a server, consulted after the connection's own. */
  lookupFallback?: (name: string) => unknown;
}

/**
 * Frames queued before a new request sends them ahead of it, when that is also at least half the calls outstanding.
 * Below this, a write of its own costs more than the overlap gains (8 in flight: no gain at 4; 16: +70%).
 */
const SPLIT_MIN = 4;

/**
 * The error for a connection that the peer or the network ended. It is made in an I/O callback, so a stack trace
 * would show only the read loop, and capturing one was a good part of what closing a connection cost.
 */
function ioError(message: string, cause?: Error): ConnectionClosedError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ConnectionClosedError(message, cause ? { cause } : undefined);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The protocol engine behind a Connection: handshake, outbox, our pending requests, the peer's requests being
 * handled, reference tables, kept answers, heartbeat and close. Internal: users see Connection.
 */
export class Session implements BoxContext {
  readonly exports: ExportTable;
  readonly imports: ImportTable;
  readonly config: ProtocolConfig;
  readonly maxDepth: number;
  readonly includeStack: boolean;
  readonly ready: Promise<void>;
  readonly closedPromise: Promise<Error | undefined>;
  closeReason: Error | undefined;
  /** Iterators the peer opened here and has not finished; closed with the connection. */
  readonly openIterators = new OpenIterators();

  #state: 'handshake' | 'open' | 'closed' = 'handshake';
  #resolveReady!: () => void;
  #rejectReady!: (e: Error) => void;
  #resolveClosed!: (e: Error | undefined) => void;
  #nextSeq = 0;
  #pending = new Map<number, PendingCall>();
  readonly #outbox: Outbox;
  readonly #answers: KeptAnswers;
  #inflight = new Map<number, CallContext>();
  #handling = 0;
  #waiting: Job[] = [];
  #pings = new Map<number, PendingCall>();
  #paused = false;
  #published = new Map<string, unknown>();
  #handshakeTimer: NodeJS.Timeout;
  #sweep: NodeJS.Timeout | undefined;
  readonly #heartbeat: Heartbeat | undefined;
  #rootBase: Base = { kind: 'ref', id: 0, callable: false, released: false };
  /** What the peer's hello says it speaks; undefined until it has arrived. */
  #peerFeatures: readonly string[] | undefined;
  #root: unknown;
  #onClose: (reason: Error | undefined) => void;

  constructor(
    readonly connection: Connection,
    readonly channel: Channel,
    readonly service: object,
    private readonly options: SessionOptions,
    onClose: (reason: Error | undefined) => void,
  ) {
    this.config = options.config;
    this.maxDepth = this.config.maxDepth;
    this.includeStack = this.config.includeStack;
    this.#onClose = onClose;
    this.exports = new ExportTable(service);
    this.#outbox = new Outbox(channel);
    this.imports = new ImportTable((id, count) => this.#outbox.release(id, count));
    this.#answers = new KeptAnswers(this.config.maxPendingRequests * 4);
    const hb = options.heartbeat;
    this.#heartbeat = hb
      ? new Heartbeat(
          hb,
          () => this.ping().catch(() => {}),
          (reason) => this.fail(reason),
        )
      : undefined;
    this.ready = new Promise((res, rej) => {
      this.#resolveReady = res;
      this.#rejectReady = rej;
    });
    this.ready.catch(() => {});
    this.closedPromise = new Promise((res) => (this.#resolveClosed = res));
    this.#root = makeNetref({ session: this, base: this.#rootBase, path: [], opts: undefined, anchor: undefined });

    const handshake = setTimeout(() => {
      this.fail(
        new TimeoutError(`the peer did not complete the netref handshake within ${this.config.handshakeTimeout} ms`),
      );
    }, this.config.handshakeTimeout);
    this.#handshakeTimer = handshake;
    this.ready.then(
      () => clearTimeout(handshake),
      () => clearTimeout(handshake),
    );

    this.enqueue(encode(makeHello()));
    channel.start({
      frame: (f) => this.#onFrame(f),
      closed: (error) => this.#onChannelClosed(error),
      // Only frames queued while handling this read are in the outbox now (user code runs later, in microtasks),
      // so sending them at once cannot take a pipelining chance from the user.
      drained: () => {
        if (!this.#outbox.isEmpty) this.#outbox.flush();
      },
    });
  }

  get root(): unknown {
    return this.#root;
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  // ---- outgoing ------------------------------------------------------------------------------------------

  /** Queues a frame; all frames queued in one synchronous run go to the channel together. */
  enqueue(frame: Uint8Array): void {
    this.#outbox.push(frame);
  }

  /**
   * True if the peer will keep `call`'s answer for pipelining: it is already marked, or its request is still in
   * the outbox, where the KEEP bit is set in place. Otherwise the answer may be gone and the caller waits instead.
   */
  keepAnswer(call: OutCall): boolean {
    const pc = call as PendingCall;
    if (pc.settled) return false; // the peer may have dropped it already (FINISH)
    if (pc.keep) return true;
    if (!pc.frame) return false;
    pc.frame[FLAGS_OFFSET]! |= Flags.KEEP;
    pc.keep = true;
    return true;
  }

  /** Sends a request on `node` and returns the netref of its answer (a RemotePromise). Never throws. */
  request(op: Op, node: Node, payload: unknown): any {
    if (this.#state === 'closed') return this.#failed(this.#closedError());
    const feature = FEATURE[op];
    if (feature) {
      const features = this.#peerFeatures;
      // A call made before the peer's hello arrived (connect with `earlyCalls`) goes out right behind ours, except
      // one the peer may not speak: that waits to see the peer's features.
      if (!features) {
        return this.#later(
          node,
          this.ready.then(() => this.request(op, node, payload)),
        );
      }
      if (!features.includes(feature)) {
        return this.#failed(
          new NetrefError(
            `the peer does not support ${WHAT[op]}: its hello lists the features [${features.join(', ')}], not '${feature}'`,
          ),
        );
      }
    }
    const base = node.base;
    let flags = 0;
    let target: number;
    if (base.kind === 'ref') {
      if (base.released) {
        return this.#failed(new ReferenceError(`${label(node)}: the netref was released`));
      }
      target = base.id;
    } else if (base.kind === 'answer' && !base.call.settled && this.keepAnswer(base.call)) {
      flags |= Flags.ON_ANSWER;
      target = base.call.seq;
    } else {
      const waitFor = base.kind === 'answer' ? base.call.promise : base.promise;
      return this.#later(
        node,
        waitFor.then(() => replay(op, node, payload, this.#root)),
      );
    }
    let boxed: unknown = null;
    const deferred: Promise<unknown>[] = [];
    let frame: Uint8Array;
    let seq = 0;
    try {
      if (op === 'call') boxed = box(payload, this, this, deferred, -1);
      else if (op === 'set') boxed = box(payload, this, this, deferred, 0);
      else if (op === 'iterate') boxed = payload; // [action, count]: two small integers
      if (op === 'copy') flags |= Flags.COPY;
      if (deferred.length) {
        return this.#later(
          node,
          Promise.all(deferred).then(() => this.request(op, node, payload)),
        );
      }
      seq = ++this.#nextSeq;
      const oneway = node.opts?.oneway === true && op === 'call';
      if (oneway) flags |= Flags.ONEWAY;
      frame = encode([KIND[op], flags, seq, target, node.path, boxed]);
      if (frame.byteLength > this.config.maxFrameSize) {
        throw new RangeError(
          `the request is ${frame.byteLength} bytes, over maxFrameSize (${this.config.maxFrameSize})`,
        );
      }
      if (oneway) {
        this.enqueue(frame);
        return Promise.resolve(undefined);
      }
    } catch (error) {
      return this.#failed(error);
    }
    // A burst of requests leaves in pieces, each about half the calls outstanding: the peer works on one while
    // this end makes the next, instead of both taking turns at the whole batch (W2: about twice the calls/s).
    if (this.#outbox.length >= Math.max(SPLIT_MIN, this.#pending.size >> 1)) this.#outbox.flush();
    const call = new PendingCall(seq);
    call.frame = frame;
    this.#pending.set(seq, call);
    this.#outbox.push(frame, call);
    this.#arm(call, node);
    return makeNetref({ session: this, base: { kind: 'answer', call }, path: [], opts: node.opts, anchor: undefined });
  }

  /** Timeout and abort signal of a call. */
  #arm(call: PendingCall, node: Node): void {
    const timeout = node.opts?.timeout ?? this.config.syncRequestTimeout;
    const signal = node.opts?.signal;
    if (node.opts?.timeout !== undefined) {
      call.timer = setTimeout(() => this.#timeOut(call, timeout), timeout);
    } else {
      call.deadline = Date.now() + timeout;
      this.#armSweep();
    }
    if (signal) {
      if (signal.aborted) {
        this.#abandon(call, signal.reason);
        return;
      }
      const onAbort = () => this.#abandon(call, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      call.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
  }

  #armSweep(): void {
    if (this.#sweep) return;
    const every = Math.max(10, Math.min(1000, this.config.syncRequestTimeout / 4));
    this.#sweep = setInterval(() => {
      const now = Date.now();
      let any = false;
      for (const table of [this.#pending, this.#pings]) {
        for (const call of table.values()) {
          if (call.deadline === 0) continue;
          any = true;
          if (now >= call.deadline) this.#timeOut(call, this.config.syncRequestTimeout);
        }
      }
      if (!any) {
        clearInterval(this.#sweep);
        this.#sweep = undefined;
      }
    }, every);
  }

  #timeOut(call: PendingCall, ms: number): void {
    this.#abandon(call, new TimeoutError(`no reply to request #${call.seq} within ${ms} ms`));
  }

  /** Stops waiting for a call: it rejects with `reason` and the callee's handler is told (its signal aborts). */
  #abandon(call: PendingCall, reason: unknown): void {
    if (this.#pings.delete(call.seq)) {
      this.#settle(call, { ok: false, error: reason });
      return;
    }
    if (!this.#pending.delete(call.seq)) return;
    this.#settle(call, { ok: false, error: reason });
    this.enqueue(encode([MessageKind.CANCEL, call.seq]));
  }

  #settle(call: PendingCall, outcome: NonNullable<OutCall['settled']>): void {
    if (call.keep) this.#outbox.finish(call.seq);
    call.finish(outcome);
  }

  /** A netref for a value known only later (a request that had to wait). */
  #later(node: Node, promise: Promise<unknown>): any {
    promise.catch(() => {});
    return makeNetref({
      session: this,
      base: { kind: 'local', promise },
      path: [],
      opts: node.opts,
      anchor: undefined,
    });
  }

  #failed(error: unknown): any {
    const promise = Promise.reject(error);
    promise.catch(() => {});
    return makeNetref({
      session: this,
      base: { kind: 'local', promise },
      path: [],
      opts: undefined,
      anchor: undefined,
    });
  }

  /** How a node settles when awaited: a GET for a path, the reply for an answer. */
  resolveNode(node: Node): Promise<unknown> {
    const base = node.base;
    if (node.path.length === 0) {
      if (base.kind === 'answer') return base.call.promise;
      if (base.kind === 'local') return base.promise;
      return Promise.resolve(undefined);
    }
    return Promise.resolve(this.request('get', node, null));
  }

  /** The async iterator `for await` and `buffiter` use on a netref: items fetched in growing chunks. */
  iterate(netref: object, options?: ChunkOptions): RemoteIterator {
    return new RemoteIterator(netref, options);
  }

  /** Releases a netref now (explicit `release` / `Symbol.dispose`). Idempotent. */
  releaseNetref(proxy: object): void {
    const node = nodeOf(proxy);
    if (!node || node.base.kind !== 'ref' || node.path.length !== 0 || node.base.id === 0) return;
    if (this.imports.release(node.base.id, proxy)) node.base.released = true;
  }

  /** Sends a PING; its PendingCall settles with the peer's clock when the PONG arrives. */
  #sendPing(): PendingCall {
    const seq = ++this.#nextSeq;
    const call = new PendingCall(seq);
    this.#pings.set(seq, call);
    call.deadline = Date.now() + this.config.syncRequestTimeout;
    this.#armSweep();
    this.enqueue(encode([MessageKind.PING, seq]));
    return call;
  }

  ping(): Promise<number> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const started = performance.now();
    return this.#sendPing().promise.then(() => performance.now() - started);
  }

  /** Estimates the peer's clock minus ours, in ms, from the best of a few round trips. */
  async measureClockDiff(samples = 5): Promise<number> {
    let best = { rtt: Infinity, offset: 0 };
    for (let i = 0; i < samples; i++) {
      if (this.#state === 'closed') throw this.#closedError();
      const t0 = performance.timeOrigin + performance.now();
      const remote = (await this.#sendPing().promise) as number;
      const t1 = performance.timeOrigin + performance.now();
      if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: remote - (t0 + t1) / 2 };
    }
    return best.offset;
  }

  /** A RemotePromise of what the peer published under `name`. */
  lookup(name: string): unknown {
    return this.request(
      'lookup',
      { session: this, base: this.#rootBase, path: [name], opts: undefined, anchor: undefined },
      null,
    );
  }

  // ---- BoxContext ------------------------------------------------------------------------------------------

  importRef(id: number, callable: boolean): object {
    if (id === 0) return this.#root as object;
    return this.imports.receive(id, () =>
      makeNetref({
        session: this,
        base: { kind: 'ref', id, callable, released: false },
        path: [],
        opts: undefined,
        anchor: undefined,
      }),
    );
  }

  resolvePromise(onAnswer: boolean, target: number, path: readonly string[]): Promise<unknown> {
    // An export is looked up now (an unknown id is a protocol violation, like in HOME); a kept answer later.
    const base = onAnswer ? this.keptAnswer(target) : this.exports.get(target);
    return Promise.resolve(base).then((b) => readPath(b, path, this.config));
  }

  // ---- incoming ----------------------------------------------------------------------------------------------

  /** The kept answer of the peer's request `seq` (it targeted it with ON_ANSWER). */
  keptAnswer(seq: number): Promise<unknown> {
    return this.#answers.get(seq);
  }

  /** Registers the kept answer of the peer's request `seq` now; the returned function settles it. */
  keepAnswerOf(seq: number): (ok: boolean, value: unknown) => void {
    return this.#answers.keep(seq);
  }

  /** Sends the reply to the peer's request `seq`. A value that cannot be sent becomes an error reply saying why. */
  reply(seq: number, ok: boolean, value: unknown): void {
    const boxValue = (v: unknown) => box(v, this, this, null);
    let frame: Uint8Array;
    try {
      frame = ok
        ? encode([MessageKind.RESULT, seq, boxValue(value)])
        : encode([MessageKind.ERROR, seq, errorToWire(asError(value), this.includeStack, boxValue)]);
      if (frame.byteLength > this.config.maxFrameSize) {
        throw new RangeError(`it is ${frame.byteLength} bytes, over maxFrameSize (${this.config.maxFrameSize})`);
      }
    } catch (error) {
      const why = new TypeError(`the ${ok ? 'result' : 'error'} could not be sent: ${asError(error).message}`);
      frame = encode([MessageKind.ERROR, seq, errorToWire(why, this.includeStack, () => undefined)]);
    }
    this.enqueue(frame);
  }

  published(name: string): unknown {
    if (this.#published.has(name)) return this.#published.get(name);
    const fallback = this.options.lookupFallback?.(name);
    if (fallback !== undefined) return fallback;
    throw new AttributeError(`nothing is published under the name '${name}'`);
  }

  publish(name: string, value: unknown): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('publish() needs a non-empty name');
    this.#published.set(name, value);
  }

  /** A request of the peer's has arrived (it may wait for its turn). Throws ProtocolError on a reused seq. */
  receiveRequest(seq: number, ctx: CallContext): void {
    if (this.#inflight.has(seq) || this.#answers.has(seq)) throw new ProtocolError(`duplicate request number ${seq}`);
    this.#inflight.set(seq, ctx);
  }

  startRequest(): void {
    this.#handling++;
  }

  endRequest(seq: number, ctx: CallContext): void {
    if (this.#inflight.get(seq) === ctx) this.#inflight.delete(seq);
    this.#handling--;
    if (this.#paused && this.#handling < this.config.maxPendingRequests) this.#drainWaiting();
  }

  #drainWaiting(): void {
    while (this.#waiting.length && this.#handling < this.config.maxPendingRequests && this.#state === 'open') {
      run(this, this.#waiting.shift()!);
    }
    if (this.#waiting.length === 0 && this.#paused) {
      this.#paused = false;
      this.channel.resume();
    }
  }

  #onFrame(frame: Uint8Array): void {
    if (this.#state === 'closed') return;
    this.#heartbeat?.heard();
    let msg: unknown;
    try {
      msg = decode(frame);
    } catch (error) {
      this.fail(new ProtocolError(`undecodable frame: ${(error as Error).message}`));
      return;
    }
    if (this.#state === 'handshake') {
      if (Array.isArray(msg) && msg[0] === MessageKind.GOODBYE) {
        const why = typeof msg[1] === 'string' && msg[1] ? msg[1] : 'no reason given';
        this.fail(new ConnectionClosedError(`the peer refused the connection: ${why}`));
        return;
      }
      const check = checkHello(msg);
      if (!check.ok) {
        this.fail(new ProtocolError(check.reason));
        return;
      }
      this.#state = 'open';
      this.#peerFeatures = check.features;
      this.#heartbeat?.start();
      this.#resolveReady();
      return;
    }
    try {
      if (!Array.isArray(msg) || typeof msg[0] !== 'number') throw new ProtocolError('a message is not an array');
      this.#onMessage(msg);
    } catch (error) {
      if (error instanceof ProtocolError) this.fail(error);
      else this.fail(new ProtocolError(`bad message: ${(error as Error).message}`));
    }
  }

  #onMessage(msg: unknown[]): void {
    switch (msg[0]) {
      case MessageKind.CALL:
      case MessageKind.GET:
      case MessageKind.SET:
      case MessageKind.DEL:
      case MessageKind.LOOKUP:
      case MessageKind.DESCRIBE:
      case MessageKind.ITERATE: {
        const job = prepare(this, checkRequest(msg));
        if (this.#waiting.length || this.#handling >= this.config.maxPendingRequests) {
          this.#waiting.push(job);
          if (!this.#paused) {
            this.#paused = true;
            this.channel.pause();
          }
          return;
        }
        run(this, job);
        return;
      }
      case MessageKind.RESULT:
      case MessageKind.ERROR:
        this.#onReply(msg);
        return;
      case MessageKind.RELEASE: {
        const pairs = msg[1];
        if (msg.length !== 2 || !Array.isArray(pairs) || pairs.length % 2 !== 0) {
          throw new ProtocolError('malformed release');
        }
        for (let i = 0; i < pairs.length; i += 2) this.exports.release(pairs[i], pairs[i + 1]);
        return;
      }
      case MessageKind.FINISH: {
        const seqs = msg[1];
        if (msg.length !== 2 || !Array.isArray(seqs)) throw new ProtocolError('malformed finish');
        this.#answers.finish(seqs);
        return;
      }
      case MessageKind.CANCEL:
        if (msg.length !== 2 || typeof msg[1] !== 'number') throw new ProtocolError('malformed cancel');
        this.#inflight.get(msg[1])?.abort(new Error('the caller cancelled the call'));
        return;
      case MessageKind.PING:
        if (msg.length !== 2 || typeof msg[1] !== 'number') throw new ProtocolError('malformed ping');
        this.enqueue(encode([MessageKind.PONG, msg[1], performance.timeOrigin + performance.now()]));
        return;
      case MessageKind.PONG: {
        if (msg.length !== 3 || typeof msg[1] !== 'number') throw new ProtocolError('malformed pong');
        const call = this.#pings.get(msg[1]);
        if (call) {
          this.#pings.delete(call.seq);
          this.#settle(call, { ok: true, value: typeof msg[2] === 'number' ? msg[2] : NaN });
        }
        return;
      }
      case MessageKind.GOODBYE: {
        const why = typeof msg[1] === 'string' && msg[1] ? `: ${msg[1]}` : '';
        this.#closeWith(ioError(`the peer closed the connection${why}`), true);
        return;
      }
      default:
        throw new ProtocolError(`unknown message kind ${String(msg[0])}`);
    }
  }

  #onReply(msg: unknown[]): void {
    if (msg.length !== 3 || typeof msg[1] !== 'number') throw new ProtocolError('malformed reply');
    const seq = msg[1];
    // Unboxed even when nobody waits any more (timed out): the references in it must be counted and released.
    const holder = [msg[2]];
    unbox(holder, this, null, -1);
    const value = holder[0];
    const call = this.#pending.get(seq);
    if (!call) return;
    // Checked while the call is still pending, so that closing the connection rejects it.
    if (msg[0] === MessageKind.ERROR && !(value instanceof Error)) {
      throw new ProtocolError('an error reply does not carry an Error');
    }
    this.#pending.delete(seq);
    if (msg[0] === MessageKind.RESULT) this.#settle(call, { ok: true, value });
    else this.#settle(call, { ok: false, error: value as Error });
  }

  // ---- close -------------------------------------------------------------------------------------------------

  #closedError(): ConnectionClosedError {
    const r = this.closeReason;
    if (r instanceof ConnectionClosedError) return r;
    if (!r) return new ConnectionClosedError('the connection is closed (closed by this end)');
    return new ConnectionClosedError(`the connection is closed: ${r.message}`, { cause: r });
  }

  /** Closes on purpose: tells the peer, then ends the channel. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#outbox.close(encode([MessageKind.GOODBYE, '']));
    this.#closeWith(undefined, true);
  }

  /** Closes because something went wrong; `reason` becomes the close reason. */
  fail(reason: Error): void {
    this.#closeWith(reason, true);
  }

  #onChannelClosed(error?: Error): void {
    if (this.#state === 'closed') return;
    let reason: Error;
    if (!error) reason = ioError('the peer closed the connection');
    else if ((error as { code?: string }).code === 'ERR_NETREF_FRAME_TOO_LARGE')
      reason = new ProtocolError(error.message);
    else reason = ioError(`the connection was lost: ${error.message}`, error);
    this.#closeWith(reason, false);
  }

  #closeWith(reason: Error | undefined, closeChannel: boolean): void {
    if (this.#state === 'closed') return;
    const wasHandshake = this.#state === 'handshake';
    this.#state = 'closed';
    this.closeReason = reason;
    // Made only when something is waiting for it: an error's stack trace is a good part of what a close costs.
    let closedError: ConnectionClosedError | undefined;
    const err = () => (closedError ??= this.#closedError());
    for (const table of [this.#pending, this.#pings]) {
      for (const call of table.values()) this.#settle(call, { ok: false, error: err() });
      table.clear();
    }
    for (const ctx of this.#inflight.values()) ctx.abort(err());
    this.#inflight.clear();
    this.#answers.clear();
    this.#waiting = [];
    this.exports.clear();
    this.imports.clear();
    this.openIterators.closeAll();
    this.#published.clear();
    clearTimeout(this.#handshakeTimer);
    this.#heartbeat?.stop();
    if (this.#sweep) clearInterval(this.#sweep);
    this.#outbox.discard();
    if (wasHandshake) this.#rejectReady(reason ?? err());
    if (closeChannel) this.channel.close();
    this.#resolveClosed(reason);
    this.#onClose(reason);
  }
}
