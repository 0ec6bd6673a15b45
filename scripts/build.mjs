#!/usr/bin/env node
// `npm run build`: dist/ as the package ships it. The JavaScript is bundled by esbuild, because Node loads a handful
// of files much faster than the ~140 modules of the sources one by one: `import('netref')`, `netref --help`, and above
// all every worker thread or child process netref starts, which must load netref again before its first call.
// tsc only writes the type declarations (dist/**/*.d.ts, next to where the sources would compile to).
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * Every module that is imported or started by its path, not only through `netref`: the package's exports, the one
 * bin/netref.js imports, and those netref hands to a Worker or a child process (`netrefModule(path)` in
 * src/core/ServiceModule.ts). Each stays at dist/PATH.js.
 */
const entryPoints = [
  'index',
  'secret-handshake',
  'cli/main',
  'connect/threadEntry',
  'server/threadedServerWorker',
  'server/forkEntry',
  'core/ClassicService',
];

/**
 * Modules that resolve paths from their own `import.meta.url` as if they were one directory below the package's
 * root (dist/core/X.js, src/core/X.ts): `netrefModule`'s root, the bin and package.json found from there. Their code
 * must land in a file at that depth, which shared chunks (dist/chunks/) and the entries under dist/DIR/ are.
 */
const depthSensitive = ['src/core/ServiceModule.ts', 'src/connect/classic.ts', 'src/cli/main.ts'];

/** Runs tsc for the declarations; resolves when it succeeded, rejects with its exit code otherwise. */
function declarations() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const args = [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--sourceMap', 'false'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with ${code}`))));
  });
}

/** Bundles src/ into dist/: the entries at their paths, the code they share in dist/chunks/. */
async function bundle() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: entryPoints.map((path) => ({ in: `src/${path}.ts`, out: path })),
    outdir: 'dist',
    bundle: true,
    // One copy of each module for every entry that uses it, so that `Service` from 'netref' is the very class a
    // worker's entry checks against; and a lazy `import()` (a CLI command) stays a file loaded when needed.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies stay imports of the installed packages: some are loaded only when a feature needs them
    // (tweetnacl, ed2curve, bonjour-service, node:tls), and users dedupe them with the rest of their tree.
    packages: 'external',
    // Stack traces (with --enable-source-maps) point at src/; the sources themselves are not shipped, as before.
    sourcemap: true,
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
  });
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    const depth = relative(root, join(root, file)).split(sep).length;
    const misplaced = depthSensitive.filter((source) => source in output.inputs);
    if (misplaced.length && depth !== 3) {
      throw new Error(`${misplaced.join(', ')} bundled into ${file}: its paths from import.meta.url would be wrong`);
    }
  }
}

// A clean dist/: the files of an earlier build (or of another layout) would otherwise ship too.
await rm(dist, { recursive: true, force: true });
await Promise.all([declarations(), bundle()]);
