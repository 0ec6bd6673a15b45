#!/usr/bin/env node
// Thin launcher: the command line lives in src/cli (built to dist/cli).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
// A served module may leave timers or handles behind; once the command is done, do not wait on them for long.
setTimeout(() => process.exit(), 1000).unref();
