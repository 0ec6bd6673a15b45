import { ProtocolError } from '../protocol/index.js';

/**
 * Answers of the peer's requests that it asked us to keep (KEEP), so that its later requests can target them
 * (ON_ANSWER) before it has the reply. Each stays until the peer FINISHes it or the connection closes.
 */
export class KeptAnswers {
  #answers = new Map<number, Promise<unknown>>();

  /** `cap`: most answers kept at once; a peer that asks for more is violating the protocol. */
  constructor(private readonly cap: number) {}

  has(seq: number): boolean {
    return this.#answers.has(seq);
  }

  /** The kept answer of request `seq`; a promise that rejects with ProtocolError when there is none. */
  get(seq: number): Promise<unknown> {
    const answer = this.#answers.get(seq);
    if (answer) return answer;
    const missing = Promise.reject(new ProtocolError(`request #${seq} has no kept answer to pipeline on`));
    // The request that asked may never await it (it is refused, or the connection closes first).
    missing.catch(() => {});
    return missing;
  }

  /** Registers the answer of request `seq` now; the returned function settles it. Throws ProtocolError past the cap. */
  keep(seq: number): (ok: boolean, value: unknown) => void {
    // A well-behaved peer FINISHes an answer once it has the reply, so kept answers stay near the calls in flight;
    // one that never does would grow this table without bound.
    if (this.#answers.size >= this.cap) {
      throw new ProtocolError(`the peer asked to keep more than ${this.cap} answers without finishing them`);
    }
    let settle!: (ok: boolean, value: unknown) => void;
    const p = new Promise((resolve, reject) => {
      settle = (ok, value) => (ok ? resolve(value) : reject(value));
    });
    p.catch(() => {});
    this.#answers.set(seq, p);
    return settle;
  }

  /** The peer has the replies of `seqs` (a FINISH): their answers may go. Unknown numbers are ignored. */
  finish(seqs: readonly unknown[]): void {
    for (const s of seqs) this.#answers.delete(s as number);
  }

  clear(): void {
    this.#answers.clear();
  }
}
