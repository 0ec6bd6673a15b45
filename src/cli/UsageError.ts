/** A command-line mistake: printed with a pointer to the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
