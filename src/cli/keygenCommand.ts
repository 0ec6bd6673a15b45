import { parseFlags } from './flags.js';
import { generateKeys, keyFileText, writeKeyFile } from '../auth/index.js';
import { UsageError } from './UsageError.js';

/**
 * `netref keygen [--out FILE [--force]]`: makes a key pair for the secure channel (DESIGN §3, §6). With `--out`
 * it writes the key file (mode 0600; an existing file is replaced only with `--force`) and prints the public key,
 * base64 on one line, on stdout; without `--out` it prints the key file's JSON instead. Returns the exit code: 0,
 * or 1 when the file cannot be written (it exists, or the directory is not writable); throws UsageError for bad
 * options.
 */
export function keygenCommand(args: string[]): number {
  const { values } = parseFlags({
    args,
    allowPositionals: false,
    strict: true,
    options: { out: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  if (values.out === '') throw new UsageError('--out needs a file name');
  if (values.force && values.out === undefined) throw new UsageError('--force replaces the file of --out; give --out');
  const keys = generateKeys();
  if (values.out === undefined) {
    process.stdout.write(keyFileText(keys));
    return 0;
  }
  try {
    writeKeyFile(values.out, keys, { overwrite: values.force });
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
    console.error(`netref keygen: ${(error as Error).message}${exists ? ' (pass --force to replace it)' : ''}`);
    return 1;
  }
  console.log(Buffer.from(keys.publicKey).toString('base64'));
  return 0;
}
