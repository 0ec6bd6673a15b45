import { DEFAULT_HANDSHAKE_TIMEOUT } from '../protocol/index.js';

/** Limits and exposure rules of a connection (DESIGN §6). Both ends have their own. */
export interface ProtocolConfig {
  /** A call's reply must arrive within this many ms, else it rejects with `TimeoutError`. Default 30000. */
  syncRequestTimeout: number;
  /** The netref handshake (and an authenticator's) must finish within this many ms. Default 10000. */
  handshakeTimeout: number;
  /** Bytes in one frame; a longer frame closes the connection with `ProtocolError`. Default 64 MiB. */
  maxFrameSize: number;
  /** Nesting of a decoded argument or result; deeper closes the connection with `ProtocolError`. Default 128. */
  maxDepth: number;
  /** Requests of one connection handled at once; past it the connection stops reading. Default 1024. */
  maxPendingRequests: number;
  /** Own enumerable data properties are readable. Default true. */
  allowPublicAttrs: boolean;
  /** Attribute writes (`setAttr`) are allowed. Default false. */
  allowSetAttr: boolean;
  /** Attribute deletes (`delAttr`) are allowed. Default false. */
  allowDelAttr: boolean;
  /** Everything but the never-reachable names (`constructor`, `__proto__`, …) is reachable. Default false. */
  allowAllAttrs: boolean;
  /** Send the local stack with errors (turn off to hide file paths). Default true. */
  includeStack: boolean;
}

export const DEFAULT_PROTOCOL_CONFIG: Readonly<ProtocolConfig> = Object.freeze({
  syncRequestTimeout: 30_000,
  handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT,
  maxFrameSize: 64 * 1024 * 1024,
  maxDepth: 128,
  maxPendingRequests: 1024,
  allowPublicAttrs: true,
  allowSetAttr: false,
  allowDelAttr: false,
  allowAllAttrs: false,
  includeStack: true,
});

const positive: (keyof ProtocolConfig)[] = [
  'syncRequestTimeout',
  'handshakeTimeout',
  'maxFrameSize',
  'maxDepth',
  'maxPendingRequests',
];
const flags: (keyof ProtocolConfig)[] = [
  'allowPublicAttrs',
  'allowSetAttr',
  'allowDelAttr',
  'allowAllAttrs',
  'includeStack',
];

/**
 * Fills in defaults and checks the types. Throws a TypeError naming the key for an unknown key or a bad value, so
 * a typo (`maxDeph`) is not silently ignored.
 */
export function resolveProtocolConfig(...layers: (Partial<ProtocolConfig> | undefined)[]): ProtocolConfig {
  const out: ProtocolConfig = { ...DEFAULT_PROTOCOL_CONFIG };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (positive.includes(key as keyof ProtocolConfig)) {
        if (typeof value !== 'number' || !(value > 0)) {
          throw new TypeError(`protocolConfig.${key} must be a positive number, got ${String(value)}`);
        }
      } else if (flags.includes(key as keyof ProtocolConfig)) {
        if (typeof value !== 'boolean') throw new TypeError(`protocolConfig.${key} must be a boolean`);
      } else {
        throw new TypeError(`protocolConfig has no key '${key}' (known: ${[...positive, ...flags].join(', ')})`);
      }
      (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
