import { settlesWithin, type Connection } from '../core/index.js';
import { describe } from './describe.js';
import { quietly } from './quietly.js';
import { release } from './release.js';
import type { RemoteAgent } from './remoteAgent.js';

/** A completer as `node:repl` and `node:readline` take it, promisified: [candidates, the text they replace]. */
export type Completer = (line: string) => Promise<[string[], string]>;

/** Gives up on a completion the remote end takes longer than this to answer: Tab must not hang the shell. */
const COMPLETION_TIMEOUT_MS = 3000;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A path of names and constant subscripts (`a.b`, `modules['node:fs'].promises`), then `.` and a partial name. */
const MEMBER =
  /([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*|\[\s*(?:'[^'\\]*'|"[^"\\]*"|\d+)\s*\])*)\s*\.\s*([A-Za-z_$][\w$]*)?$/;
/** A partial name on its own (completed from the global scope). */
const GLOBAL = /([A-Za-z_$][\w$]*)?$/;

/** Words of the language, offered with the global names. */
const KEYWORDS = (
  'await break case catch class const continue debugger default delete do else export extends false finally for ' +
  'function if import in instanceof let new null return super switch this throw true try typeof undefined var ' +
  'void while with yield async of'
).split(' ');

/**
 * Tab completion of remote names for the shell: after `a.b.` the members of what `a.b` is on the remote end (from
 * `describe`, so what the classic end exposes: every name of the object and its prototypes), after `modules.` the
 * remote end's builtin modules, and a bare partial name from the remote global scope (`describe(globals)`, plus
 * the REPL's `let`/`const` bindings, plus keywords). Only paths of names and constant subscripts are evaluated,
 * never calls, so completing runs no code of the user's but getters. Any failure or a slow answer completes
 * nothing.
 */
export function remoteCompleter(conn: Connection, agent: RemoteAgent): Completer {
  const memberNames = async (expression: string): Promise<string[]> => {
    if (expression === 'modules') {
      return agent.builtinModules.map((m) => m.replace(/^node:/, '')).filter((m) => IDENTIFIER.test(m));
    }
    // One round trip: describe reads `value` off the holder before the holder has come back here.
    const holder = agent.hold(expression);
    try {
      // A peer that does not speak describe (an older netref) is asked for the names with plain code.
      const names = await describe(holder.value).then(
        (members) => members.map((m) => m.name),
        () => [],
      );
      // A primitive has no members of its own to describe: its prototype's names, read there.
      return names.length ? names : await agent.memberNames(expression);
    } finally {
      Promise.resolve(holder).then(
        (h) => quietly(() => release(h)),
        () => {},
      );
    }
  };
  const globalNames = async (): Promise<string[]> => {
    const [globals, lexical] = await Promise.all([
      describe(conn.root.globals).then(
        (members) => members.map((m) => m.name),
        () => agent.memberNames('globalThis'),
      ),
      agent.lexicalNames(),
    ]);
    return [...globals, ...lexical, ...KEYWORDS];
  };
  return async (line) => {
    let partial: string;
    let names: Promise<string[]>;
    const member = MEMBER.exec(line);
    if (member) {
      // `f().x.` or `a[i].x.`: a member of something that would have to run to be known; not completed.
      const before = line.slice(0, member.index).trimEnd();
      if (/[.)\]]$/.test(before)) return [[], ''];
      partial = member[2] ?? '';
      names = memberNames(member[1]!.replace(/\s+/g, ''));
    } else {
      partial = GLOBAL.exec(line)![1] ?? '';
      if (
        line
          .slice(0, line.length - partial.length)
          .trimEnd()
          .endsWith('.')
      )
        return [[], partial];
      names = globalNames();
    }
    names.catch(() => {}); // a late failure after the timeout must not count as unhandled
    const found = (await settlesWithin(names, COMPLETION_TIMEOUT_MS)) ? await names.catch(() => []) : [];
    const matches = [...new Set(found)].filter((n) => n.startsWith(partial) && IDENTIFIER.test(n)).sort();
    return [matches, partial];
  };
}
