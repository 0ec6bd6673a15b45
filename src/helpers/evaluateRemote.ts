import { inspect } from 'node:util';
import { builtins } from '../channel/index.js';
import { ConnectionClosedError, type Connection } from '../core/index.js';
import type { RemoteAgent } from './remoteAgent.js';

/** The outcome of one input of the shell. */
export type Evaluation =
  | { kind: 'value'; text: string }
  | { kind: 'error'; text: string }
  /** The input is incomplete (an open brace, an unfinished template): the shell waits for more lines. */
  | { kind: 'incomplete' }
  /** The input holds nothing to run (blank, or comments only): nothing was sent, nothing is printed. */
  | { kind: 'nothing' };

/** Whitespace and comments only. */
const NOTHING = /^(?:\s|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*$/;

const REMOTE_STACK = '\n--- remote stack ---\n';
/** A frame of the machinery that runs the input (vm, the REPL evaluator, netref's classic service), not of it. */
const MACHINERY =
  /^\s+at (?:.*\((?:node:vm|node:repl|node:internal)|ContextifyScript\.|REPLServer\.|new Promise|replEval\b)/;
/** A frame of the input itself: the classic service evaluates it under this file name. */
const INPUT_FRAME = /^\s+at (?:.* \()?netref-classic:\d+/m;

/**
 * True for the parse error of an input that only needs more lines. A SyntaxError thrown by running code (say
 * `new Function('a +')`) has a frame of the input on its stack, and is a real error.
 */
function isIncomplete(error: unknown, remoteStack: string | undefined): boolean {
  return (
    error instanceof SyntaxError &&
    /^(Unexpected end of input|Unterminated template literal)/.test(error.message) &&
    !INPUT_FRAME.test(remoteStack ?? '')
  );
}

/**
 * True when `code` cannot be complete: it is compiled here as a script (never run) and the parser ran out of input.
 * Answering at once, without a round trip, keeps the REPL gathering lines in order when they come faster than the
 * remote end answers (a paste). Input with top-level `await` fails to compile as a script for that reason first;
 * the remote end's answer decides then.
 */
export function needsMoreLines(code: string): boolean {
  try {
    new (builtins.vm().Script)(code, { filename: 'netref-shell-input' });
    return false;
  } catch (error) {
    return isIncomplete(error, undefined);
  }
}

/** The stack as the remote end saw it, cut where the code that ran the input begins. */
function remoteStackOf(error: Error): string | undefined {
  const stack = typeof error.stack === 'string' ? error.stack : '';
  const at = stack.indexOf(REMOTE_STACK);
  if (at < 0) return undefined;
  const lines = stack.slice(at + REMOTE_STACK.length).split('\n');
  const cut = lines.findIndex((line, i) => i > 0 && MACHINERY.test(line));
  return (cut < 0 ? lines : lines.slice(0, cut)).join('\n');
}

/**
 * How the shell prints an error of the remote end: as the Node REPL prints its own uncaught errors
 * (`Uncaught TypeError: …` with the stack), with the remote stack and the error's own properties (`code`, …).
 */
export function formatRemoteError(error: unknown, colors: boolean): string {
  if (!(error instanceof Error)) return `Uncaught ${inspect(error, { colors })}`;
  const stack = remoteStackOf(error);
  // A parse error of the input: V8 puts the offending line and a caret above the message; the REPL shows them so.
  const frame = stack === undefined ? null : /^netref-classic:\d+\n([\s\S]*?)\n*^SyntaxError: /m.exec(stack);
  if (error instanceof SyntaxError && frame) return `${frame[1]}\n\nUncaught SyntaxError: ${error.message}`;
  if (stack !== undefined && !/\n\s+at /.test(stack)) {
    // No frame of the input left (an early error, say a redeclared `let`): the header alone, as the REPL prints it.
    const props = Object.keys(error).length ? ` ${inspect({ ...error }, { colors })}` : '';
    return `Uncaught ${stack}${props}`;
  }
  if (stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
  }
  return `Uncaught ${inspect(error, { colors })}`;
}

/**
 * Runs one input of the shell on the classic end behind `agent` with the service's `execute`, and prints its value
 * there with `util.inspect` (so a remote object prints as it would on its own end; only the text crosses).
 * Resolves with the text, the error's text, or `incomplete`. Rejects only when the connection is gone
 * (`ConnectionClosedError`), which ends the shell.
 */
export async function evaluateRemote(
  conn: Connection,
  agent: RemoteAgent,
  code: string,
  colors: boolean,
): Promise<Evaluation> {
  if (NOTHING.test(code)) return { kind: 'nothing' };
  if (needsMoreLines(code)) return { kind: 'incomplete' };
  try {
    return { kind: 'value', text: await agent.run(conn.root, code, { colors }) };
  } catch (error) {
    if (error instanceof ConnectionClosedError || conn.isClosed) throw error;
    const stack = error instanceof Error ? remoteStackOf(error) : undefined;
    if (isIncomplete(error, stack)) return { kind: 'incomplete' };
    return { kind: 'error', text: formatRemoteError(error, colors) };
  }
}
