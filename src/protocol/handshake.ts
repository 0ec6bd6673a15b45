import { FEATURES, MAGIC, PROTOCOL_VERSION } from './version.js';

/** The default `protocolConfig.handshakeTimeout` (DESIGN §6): netref's handshake and an authenticator's, in ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** The first frame each way. */
export interface Hello {
  magic: string;
  version: [number, number];
  features: string[];
}

export function makeHello(): Hello {
  return { magic: MAGIC, version: [PROTOCOL_VERSION.major, PROTOCOL_VERSION.minor], features: [...FEATURES] };
}

/** The outcome of reading the peer's hello: its features, or why the two ends cannot talk. */
export type HelloCheck = { ok: true; features: string[]; version: string } | { ok: false; reason: string };

/** Checks a decoded hello from the peer. Nothing in it is trusted. */
export function checkHello(value: unknown): HelloCheck {
  const ours = `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'the peer did not open with a netref handshake' };
  }
  const h = value as Partial<Record<keyof Hello, unknown>>;
  if (h.magic !== MAGIC) return { ok: false, reason: 'the peer did not open with a netref handshake' };
  const v = h.version;
  if (!Array.isArray(v) || v.length < 2 || !Number.isInteger(v[0]) || !Number.isInteger(v[1])) {
    return { ok: false, reason: 'the peer sent a malformed protocol version' };
  }
  const theirs = `${v[0]}.${v[1]}`;
  if (v[0] !== PROTOCOL_VERSION.major) {
    return {
      ok: false,
      reason: `protocol version mismatch: this end speaks ${ours}, the peer speaks ${theirs}`,
    };
  }
  const features = Array.isArray(h.features) ? h.features.filter((f): f is string => typeof f === 'string') : [];
  return { ok: true, features, version: theirs };
}
