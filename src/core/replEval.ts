import type { REPLServer, ReplOptions } from 'node:repl';

/** The one REPL of this process (the global scope is per process, so one is enough), made on first use. */
let server: Promise<{ repl: REPLServer; Recoverable: new (err: Error) => SyntaxError }> | undefined;

/**
 * What the REPL takes for its domain. Left to itself the REPL creates a real `node:domain` Domain, which turns on
 * an async hook for every promise of the process: all promise-heavy code (netref itself) runs about 10× slower from
 * then on. With this stand-in, `eval` runs unwrapped, so a thrown error reaches our callback instead of the REPL's
 * printer, and nothing else changes.
 */
const standInDomain = {
  bind: <F>(fn: F): F => fn,
  on(): unknown {
    return this;
  },
  emit: (): boolean => false,
};

async function replServer(): Promise<{ repl: REPLServer; Recoverable: new (err: Error) => SyntaxError }> {
  // Loaded lazily: `node:repl` loads `node:domain`, which claims `process.setUncaughtExceptionCaptureCallback`
  // for the rest of the process; only a process that actually runs classic code should pay for that.
  const { start, Recoverable } = await import('node:repl');
  const { PassThrough, Writable } = await import('node:stream');
  const before = new Set(Reflect.ownKeys(globalThis));
  const repl = start({
    // Nothing is ever written to the input; the prompt and any echo go nowhere. No TTY, so no raw mode and no
    // SIGINT handling; streams without handles, so the REPL never keeps the process alive.
    input: new PassThrough(),
    output: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    terminal: false,
    useGlobal: true,
    prompt: '',
    domain: standInDomain,
  } as ReplOptions);
  // The REPL puts `require`, `module` and a getter per builtin module (`fs`, `os`, …) on the global object; that
  // would change the serving program's own globals (code testing `typeof require` to detect CommonJS). Undo it:
  // classic code imports with `modules.x` or `await import('x')`.
  for (const key of Reflect.ownKeys(globalThis)) {
    if (!before.has(key)) delete (globalThis as Record<PropertyKey, unknown>)[key];
  }
  return { repl, Recoverable: Recoverable as unknown as new (err: Error) => SyntaxError };
}

/**
 * Runs `code` in this process's global scope with the Node REPL's own evaluator: `var`, `function` and bare
 * assignments become globals, `let`/`const` persist between calls, top-level `await` works, and the result is the
 * value of the last expression statement (an object literal `{ a: 1 }` alone is an expression, as in the REPL).
 *
 * Rejects with what the code threw, class and message kept (`TypeError`, `SyntaxError`, …). Incomplete input (an
 * unclosed brace), which the REPL would wait to see completed, rejects with its SyntaxError instead.
 */
export async function replEval(code: string): Promise<unknown> {
  if (typeof code !== 'string') throw new TypeError(`code to run must be a string, got ${typeof code}`);
  server ??= replServer();
  const { repl, Recoverable } = await server;
  return new Promise((resolve, reject) => {
    repl.eval(code, repl.context, 'netref-classic', (error, value) => {
      if (error === null || error === undefined) resolve(value);
      else if (error instanceof Recoverable) reject(incomplete((error as unknown as { err?: unknown }).err));
      else reject(error);
    });
  });
}

/**
 * The SyntaxError for code the REPL would wait to see completed. The parser's own error says what is missing
 * ("Unexpected end of input", "Unterminated template literal"), except on the top-level-await path, whose parser
 * complains about the last token it saw (with a code frame in the message): that one is replaced.
 */
function incomplete(inner: unknown): SyntaxError {
  if (inner instanceof SyntaxError && !inner.message.startsWith('\n')) return inner;
  return new SyntaxError('Unexpected end of input (the code is incomplete)');
}
