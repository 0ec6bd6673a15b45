// The layers of DESIGN §2: each folder under src/ imports only from the layers its row allows, and from what those
// may import in turn (registry's "core" lets it use channel and protocol, which core builds on, but not auth).
// auth's row leaves core out: the subpath netref/secret-handshake must load without the RPC core and the codec.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** DESIGN §2's "may import" column. */
const ALLOWED: Record<string, readonly string[]> = {
  channel: [],
  protocol: ['channel'],
  core: ['channel', 'protocol'],
  auth: ['channel', 'protocol'],
  registry: ['core'],
  connect: ['channel', 'protocol', 'core', 'auth', 'registry'],
  server: ['channel', 'protocol', 'core', 'auth', 'registry', 'connect'],
  helpers: ['channel', 'protocol', 'core', 'auth', 'registry', 'connect', 'server'],
  cli: ['channel', 'protocol', 'core', 'auth', 'registry', 'connect', 'server', 'helpers'],
};

/** The layers `layer` may import: its row, and theirs in turn. */
function reachable(layer: string, seen = new Set<string>()): Set<string> {
  for (const up of ALLOWED[layer] ?? []) {
    if (seen.has(up)) continue;
    seen.add(up);
    reachable(up, seen);
  }
  return seen;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative specifiers a source file imports, statically or with `import()`, types included. */
function relativeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of source.matchAll(/\bfrom\s*'(\.[^']+)'|\bimport\s*\(\s*'(\.[^']+)'\s*\)|^import\s*'(\.[^']+)'/gm)) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}

describe('layers (DESIGN §2)', () => {
  it('every folder under src/ imports only the layers it may', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const file of sourceFiles(src)) {
      const [layer, ...rest] = relative(src, file).split(sep);
      if (rest.length === 0) continue; // src/index.ts and the subpath entries re-export from every layer
      assert.ok(layer! in ALLOWED, `src/${layer}/ is not a layer DESIGN §2 names`);
      const may = reachable(layer!);
      for (const spec of relativeImports(file)) {
        const target = relative(src, join(file, '..', spec)).split(sep);
        if (target.length < 2 || target[0] === layer) continue;
        checked++;
        if (!may.has(target[0]!)) wrong.push(`${relative(src, file)} imports ${spec}`);
      }
    }
    assert.ok(checked > 100, `only ${checked} imports across layers found: the import pattern no longer matches`);
    assert.deepEqual(wrong, []);
  });
});
