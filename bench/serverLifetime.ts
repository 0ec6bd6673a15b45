/**
 * The server side of the contract with bench/serverProcess.ts: print the port once listening, and exit when the
 * parent goes away. The parent kills us by PID, but a parent that is itself killed (SIGKILL, a crash) cannot, and
 * then the only sign left is our stdin pipe reaching end-of-file.
 */
export function announceReady(port: number): void {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  process.stdout.write(`${port}\n`);
}
