import { createRequire } from 'node:module';

/**
 * msgpackr, loaded through its CommonJS build. Its ES-module entry is six modules and takes Node about 20 ms to
 * load here; its single-file CommonJS build about 13 ms (both with the native string extractor, which decodes
 * string-heavy frames a third faster and is kept). Every worker and child process netref starts pays this before
 * its first call. A side effect, wanted: the extensions netref registers live in this copy, not in the one an
 * application gets by importing msgpackr as an ES module (one that requires it shares this copy).
 */
const msgpackr = createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr');

export const { Packr, addExtension } = msgpackr;
export type Packr = import('msgpackr').Packr;
