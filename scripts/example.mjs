#!/usr/bin/env node
// `npm run example NAME`: runs examples/NAME/main.ts with `node --import tsx`, from the repository root, and exits
// with its exit code. Without NAME, or with an unknown one, it lists the examples there are.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');

/** Folders of examples/ that hold a main.ts. */
function available() {
  if (!existsSync(examplesDir)) return [];
  return readdirSync(examplesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(examplesDir, d.name, 'main.ts')))
    .map((d) => d.name)
    .sort();
}

const [name, ...args] = process.argv.slice(2);
const names = available();
if (!name || !names.includes(name)) {
  const list = names.length ? names.map((n) => `  ${n}`).join('\n') : '  (none)';
  console.error(
    `${name ? `unknown example '${name}'` : 'which example?'}\n` +
      `usage: npm run example NAME\navailable examples:\n${list}`,
  );
  process.exit(2);
}

const child = spawn(process.execPath, ['--import', 'tsx', join(examplesDir, name, 'main.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
});

// A signal sent to this process alone (not to its process group) is passed on, so the example can clean up.
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of signals) {
  process.on(signal, () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  });
}

child.on('error', (error) => {
  console.error(`cannot run examples/${name}/main.ts: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`examples/${name}/main.ts ended by ${signal}`);
    process.exitCode = 1;
  } else {
    process.exitCode = code ?? 1;
  }
  for (const s of signals) process.removeAllListeners(s);
});
