/** Where `connect` should go. */
export type ConnectTarget = { host: string; port: number } | { path: string } | { service: string };

function checkPort(port: unknown, what: string): number {
  const n = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new TypeError(`${what}: port must be an integer from 1 to 65535, got ${JSON.stringify(port)}`);
  }
  return n;
}

/**
 * Parses a URI: `tcp://HOST:PORT` (IPv6 in brackets), `unix://PATH` (`unix:///tmp/s.sock`), `mdns://NAME`.
 * Throws a TypeError naming what is wrong.
 */
export function parseUri(uri: string): ConnectTarget {
  const m = /^([a-z]+):\/\/(.*)$/i.exec(uri);
  if (!m)
    throw new TypeError(
      `not a netref URI: ${JSON.stringify(uri)} (expected tcp://HOST:PORT, unix://PATH or mdns://NAME)`,
    );
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'unix') {
    if (!rest) throw new TypeError(`${uri}: a unix:// URI needs a socket path`);
    return { path: decodeURIComponent(rest) };
  }
  if (scheme === 'mdns') {
    if (!rest) throw new TypeError(`${uri}: an mdns:// URI needs a service name`);
    return { service: rest.replace(/\/$/, '') };
  }
  if (scheme !== 'tcp') throw new TypeError(`${uri}: unknown scheme '${scheme}' (use tcp://, unix:// or mdns://)`);
  const hp = /^(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(rest);
  if (!hp) throw new TypeError(`${uri}: expected tcp://HOST:PORT`);
  const host = hp[1]!.replace(/^\[|\]$/g, '');
  return { host, port: checkPort(hp[2], uri) };
}

/** Normalizes `connect`'s forms: (host, port), (uri), ({ host, port }), ({ path }). */
export function parseTarget(a: unknown, b: unknown): ConnectTarget {
  if (typeof a === 'string' && b !== undefined && (typeof b === 'number' || typeof b === 'string')) {
    if (!a) throw new TypeError('connect(host, port): host is empty');
    return { host: a, port: checkPort(b, `connect(${JSON.stringify(a)}, ${JSON.stringify(b)})`) };
  }
  if (typeof a === 'string') return parseUri(a);
  if (a && typeof a === 'object') {
    const o = a as { host?: unknown; port?: unknown; path?: unknown };
    if (typeof o.path === 'string') return { path: o.path };
    if (o.port !== undefined)
      return { host: typeof o.host === 'string' ? o.host : '127.0.0.1', port: checkPort(o.port, 'connect()') };
  }
  throw new TypeError('connect() takes (host, port), a URI string, { host, port } or { path }');
}
