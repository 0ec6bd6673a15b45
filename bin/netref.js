#!/usr/bin/env node
// Thin launcher: the command line lives in src/cli (built to dist/cli).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
