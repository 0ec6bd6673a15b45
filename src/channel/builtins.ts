import type * as ChildProcess from 'node:child_process';
import type * as Crypto from 'node:crypto';
import type * as Dgram from 'node:dgram';
import type * as FsPromises from 'node:fs/promises';
import type * as Readline from 'node:readline';
import type * as Tls from 'node:tls';
import type * as V8 from 'node:v8';
import type * as Vm from 'node:vm';
import { lazyRequire } from './lazyRequire.js';

/*
 * Node built-in modules that only some features need, loaded on first use rather than when netref is imported:
 * together they made up about a quarter of `import('netref')` (39 → 28 ms with them already loaded), which every
 * process and worker thread netref starts pays before its first call. Node keeps one instance of each, whoever loads
 * it first.
 */

/** node:child_process (subprocess connections, the forking server). */
export const childProcess = lazyRequire<typeof ChildProcess>('node:child_process');
/** node:crypto (file hashes, temporary names, the secure channel's handshake). */
export const crypto = lazyRequire<typeof Crypto>('node:crypto');
/** node:dgram (mDNS). */
export const dgram = lazyRequire<typeof Dgram>('node:dgram');
/** node:fs/promises (file transfer). */
export const fsPromises = lazyRequire<typeof FsPromises>('node:fs/promises');
/** node:readline (the remote shell reading a script). */
export const readline = lazyRequire<typeof Readline>('node:readline');
/** node:tls (TLS connections and `tlsAuthenticator`, which makes its secure context at once, hence `require`). */
export const tls = lazyRequire<typeof Tls>('node:tls');
/** node:v8 (the forking server checking what it sends). */
export const v8 = lazyRequire<typeof V8>('node:v8');
/** node:vm (teleport and the shell compiling source). */
export const vm = lazyRequire<typeof Vm>('node:vm');
