import type Ed2curve from 'ed2curve';
import type Nacl from 'tweetnacl';
import { lazyRequire } from '../../channel/lazyRequire.js';

/*
 * tweetnacl and ed2curve are loaded on first use, not when netref is imported: only the secure channel needs them,
 * and as static imports they cost every process and worker thread that imports netref about 18 ms on a small machine.
 * Loaded with `require`, synchronously, because much of what uses them is synchronous API — `generateKeys()`,
 * `randomNetworkKey()`, `readKeyFile()`, `shsClient()`/`shsServer()` checking their keys at once, `boxStream()` —
 * and because requiring this CommonJS code takes about a third of the time an ESM import of it does. Node keeps one
 * instance either way, so a program's own `import nacl from 'tweetnacl'` (`setPRNG`, say) reaches the same object.
 */

/** tweetnacl, loaded on the first call. Throws what `require` throws if it is not installed. */
export const loadNacl = lazyRequire<typeof Nacl>('tweetnacl');

/** ed2curve (Ed25519 to X25519 key conversion), loaded on the first call. */
export const loadEd2curve = lazyRequire<typeof Ed2curve>('ed2curve');
