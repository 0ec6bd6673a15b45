// import('netref') loads only what every connection needs (issue 7, W6): every worker thread and child process
// netref starts pays for the import before its first call. The secure channel, TLS, mDNS, the shell, teleport,
// file transfer and the CLI's commands load what they need on first use. Checked on the built package: the files
// `import 'netref'` reaches through static imports must not import the modules of optional features.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/** The specifiers a built file imports statically (`import … from "x"`, `import "x"`, `export … from "x"`). */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"/gms)) {
    found.push((m[1] ?? m[2])!);
  }
  return found;
}

/** Every built file reachable from `entry` by static imports, with what each imports from outside dist/. */
function staticGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const queue = [join(dist, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    if (graph.has(file)) continue;
    const outside: string[] = [];
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) queue.push(join(dirname(file), spec));
      else outside.push(spec);
    }
    graph.set(file, outside);
  }
  return graph;
}

const OPTIONAL = [
  'node:tls',
  'node:crypto',
  'node:readline',
  'node:repl',
  'node:vm',
  'node:v8',
  'node:fs/promises',
  'node:dgram',
  'node:child_process',
  'tweetnacl',
  'ed2curve',
  'bonjour-service',
];

describe("import('netref')", () => {
  it('does not statically import the built-ins and packages of optional features', () => {
    const graph = staticGraph('index.js');
    assert.ok(graph.size > 1, `only ${graph.size} file reached: the import pattern no longer matches the build`);
    const everything = [...graph.values()].flat();
    assert.ok(everything.includes('node:net'), 'node:net not found: the import pattern no longer matches the build');
    for (const [file, imports] of graph) {
      const bad = imports.filter((spec) => OPTIONAL.includes(spec));
      assert.deepEqual(bad, [], `${file.slice(dist.length)} imports ${bad.join(', ')} statically`);
    }
  });
});

describe("import('netref/secret-handshake')", () => {
  it('loads the secure channel alone: not the RPC core, the codec or msgpackr', () => {
    const graph = staticGraph('secret-handshake.js');
    // esbuild marks where each module's code starts: `// src/auth/shs/keys.ts`.
    const modules = [...graph.keys()].flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/^\/\/ (src\/\S+\.ts)$/gm)].map((m) => m[1]!),
    );
    assert.ok(modules.includes('src/auth/shs/clientHandshake.ts'), 'no module markers found: the build changed');
    const bad = modules.filter((m) => m.startsWith('src/core/') || /codec|msgpackr/.test(m));
    assert.deepEqual([...new Set(bad)], []);
  });
});
