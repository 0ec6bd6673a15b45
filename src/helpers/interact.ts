import { homedir } from 'node:os';
import { join } from 'node:path';
import type { REPLServer } from 'node:repl';
import { builtins } from '../channel/index.js';
import { ConnectionClosedError, type Connection } from '../core/index.js';
import { evaluateRemote, type Evaluation } from './evaluateRemote.js';
import { redirectedStdio } from './redirectedStdio.js';
import { remoteAgent, type RemoteAgent } from './remoteAgent.js';
import { remoteCompleter } from './remoteCompleter.js';

/** Options of `interact`. */
export interface InteractOptions {
  /** Where input comes from (default `process.stdin`). */
  input?: NodeJS.ReadableStream;
  /** Where results, errors and the remote end's stdout go (default `process.stdout`). */
  output?: NodeJS.WritableStream;
  /** Where the remote end's stderr goes (default `process.stderr`). */
  errorOutput?: NodeJS.WritableStream;
  /**
   * An interactive terminal (prompt, line editing, completion, history, colours) or a script read line by line
   * (nothing but results and errors printed). Default: whether both `input` and `output` are TTYs.
   */
  terminal?: boolean;
  /** The prompt of an interactive session (default `netref> `). */
  prompt?: string;
  /**
   * The history file of an interactive session. Default: `NETREF_SHELL_HISTORY` from the environment if set,
   * else `~/.netref_shell_history`; an empty string keeps history in memory only.
   */
  historyFile?: string;
  /**
   * Show the remote end's stdout/stderr writes here while the shell runs (default true). Turn it off for an end in
   * this very thread (an in-process `ClassicService`) whose output streams are `output`/`errorOutput`: its writes
   * would be forwarded to itself.
   */
  redirectStdio?: boolean;
}

/** How a shell session ended. */
export interface InteractResult {
  /** How many inputs ended in an error. */
  errors: number;
}

/** Evaluates inputs one at a time, in order, whatever the pace they come in at. */
function serialized(run: (code: string) => Promise<Evaluation>): (code: string) => Promise<Evaluation> {
  let tail: Promise<unknown> = Promise.resolve();
  return (code) => {
    const next = tail.then(() => run(code));
    tail = next.catch(() => {});
    return next;
  };
}

/** A script on a pipe: lines gathered into complete inputs, each run in turn, only results and errors printed. */
async function runScript(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  evaluate: (code: string) => Promise<Evaluation>,
  closed: Promise<never>,
): Promise<InteractResult> {
  const lines = builtins.readline().createInterface({ input, terminal: false, crlfDelay: Infinity });
  let errors = 0;
  let buffer = '';
  const print = (e: Evaluation) => {
    if (e.kind === 'incomplete' || e.kind === 'nothing') return;
    if (e.kind === 'error') errors++;
    output.write(e.text + '\n');
  };
  try {
    for await (const line of lines) {
      if (!buffer && line.trim() === '.exit') break;
      buffer += line + '\n';
      const e = await Promise.race([evaluate(buffer), closed]);
      if (e.kind !== 'incomplete') buffer = '';
      print(e);
    }
    if (buffer) {
      // What is left was judged incomplete: the script ended inside an unfinished statement.
      print({
        kind: 'error',
        text: 'Uncaught SyntaxError: Unexpected end of input (the script ended inside a statement)',
      });
    }
  } finally {
    lines.close();
  }
  return { errors };
}

/** An interactive session on `node:repl`. */
async function runTerminal(
  options: Required<Pick<InteractOptions, 'input' | 'output' | 'prompt' | 'historyFile'>>,
  evaluate: (code: string) => Promise<Evaluation>,
  complete: ReturnType<typeof remoteCompleter>,
  closed: Promise<never>,
): Promise<InteractResult> {
  const repl = await import('node:repl');
  let errors = 0;
  const server: REPLServer = repl.start({
    prompt: options.prompt,
    input: options.input,
    output: options.output,
    terminal: true,
    // Results arrive as the remote end's text: printed as they are.
    writer: (text: unknown) => String(text),
    eval: (code, _context, _file, callback) => {
      evaluate(code).then(
        (e) => {
          if (e.kind === 'nothing') return (callback as (error: Error | null) => void)(null);
          if (e.kind === 'incomplete')
            return callback(new repl.Recoverable(new SyntaxError('incomplete input')), undefined);
          if (e.kind === 'error') {
            errors++;
            options.output.write(e.text + '\n');
            return (callback as (error: Error | null) => void)(null);
          }
          callback(null, e.text);
        },
        (error: unknown) => (callback as (error: Error | null) => void)(error as Error),
      );
    },
    completer: (line: string, callback: (error: Error | null, result: [string[], string]) => void) => {
      complete(line).then(
        (result) => callback(null, result),
        () => callback(null, [[], line]),
      );
    },
  });
  if (options.historyFile) {
    await new Promise<void>((resolve) => server.setupHistory(options.historyFile, () => resolve()));
  }
  try {
    await Promise.race([new Promise((resolve) => server.once('exit', resolve)), closed]);
  } finally {
    server.close();
  }
  return { errors };
}

/**
 * An interactive shell whose input runs on a classic end (a `ClassicService`), as the Node REPL would run it there:
 * expressions and statements, top-level `await`, variables that persist (`let`/`const` too), results printed with
 * the remote end's `util.inspect`, remote errors with their remote stack, Tab completion of remote names (see
 * `remoteCompleter`), history, `.exit`. The remote end's stdout/stderr writes show here while it runs. `modules`
 * (`modules.os.hostname()`) is made a global on the remote end for the session's code, unless that end already has
 * a global of that name.
 *
 * Given a pipe instead of a terminal, it reads a script: each complete input is run in turn and its result or error
 * printed, with no prompt; an error does not stop the script.
 *
 * Resolves when the input ends or on `.exit`, with the number of inputs that failed. Rejects with a TypeError when
 * the other end is no classic end, and with the connection's reason (`ConnectionClosedError`) if it closes during
 * the session.
 */
export async function interact(conn: Connection, options: InteractOptions = {}): Promise<InteractResult> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const terminal =
    options.terminal ?? Boolean((input as { isTTY?: boolean }).isTTY && (output as { isTTY?: boolean }).isTTY);
  const colors = terminal && Boolean((output as { hasColors?: () => boolean }).hasColors?.());
  const agent: RemoteAgent = await remoteAgent(conn, 'interact');
  await agent.installModules(conn.root.modules);
  const stdio =
    options.redirectStdio === false
      ? undefined
      : await redirectedStdio(conn, { stdout: output, stderr: options.errorOutput ?? process.stderr });
  // Settles only if the connection ends first: the session cannot go on.
  const closed = conn.closed.then((reason) => {
    throw reason ?? new ConnectionClosedError('the connection was closed');
  });
  closed.catch(() => {});
  const evaluate = serialized((code) => evaluateRemote(conn, agent, code, colors));
  try {
    if (!terminal) return await runScript(input, output, evaluate, closed);
    const historyFile =
      options.historyFile ?? process.env.NETREF_SHELL_HISTORY ?? join(homedir(), '.netref_shell_history');
    const prompt = options.prompt ?? 'netref> ';
    return await runTerminal({ input, output, prompt, historyFile }, evaluate, remoteCompleter(conn, agent), closed);
  } finally {
    await stdio?.close();
  }
}
