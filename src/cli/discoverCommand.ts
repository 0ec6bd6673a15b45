import { DEFAULT_DISCOVER_TIMEOUT, discover, type DiscoveredService } from '../registry/index.js';
import { parseFlags } from './flags.js';
import { UsageError } from './UsageError.js';

export const DISCOVER_USAGE = `usage: netref discover [NAME] [--timeout MS] [--all] [--registry HOST:PORT] [--interface ADDR]

  NAME                 only services with this name or alias (case-insensitive)
  --timeout MS         how long to listen for answers (default 2000)
  --all                also list services of other protocol versions
  --registry HOST:PORT ask a RegistryServer instead of multicasting
  --interface ADDR     the IPv4 address of the interface to browse on`;

/** The answers as a table: one row per service, columns padded to their widest cell. */
export function discoveryTable(services: DiscoveredService[]): string {
  const rows = [
    ['NAME', 'HOST', 'PORT', 'ADDRESSES', 'AUTH'],
    ...services.map((s) => [
      s.names.length ? `${s.name} [${s.names.join(',')}]` : s.name,
      s.host,
      String(s.port),
      s.addresses.join(','),
      s.txt.auth ?? '?',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/**
 * `netref discover [NAME]`: lists the netref services that answer, as a table on stdout. Exit code 0 when at least
 * one answered, 1 when none did (the message goes to stderr), 2 for bad options (UsageError, thrown).
 */
export async function discoverCommand(args: string[]): Promise<number> {
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      timeout: { type: 'string' },
      all: { type: 'boolean', default: false },
      registry: { type: 'string' },
      interface: { type: 'string' },
    },
  });
  const v = parsed.values;
  if (parsed.positionals.length > 1) throw new UsageError('netref discover takes at most one NAME');
  const timeout = v.timeout === undefined ? undefined : Number(v.timeout);
  if (timeout !== undefined && (!/^\d+$/.test(v.timeout!) || timeout > 600_000)) {
    throw new UsageError(`--timeout takes a whole number of ms up to 600000, got '${v.timeout}'`);
  }
  const name = parsed.positionals[0];
  const services = await discover(name, {
    all: v.all!,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(v.registry !== undefined ? { registry: v.registry } : {}),
    ...(v.interface !== undefined ? { interface: v.interface } : {}),
  });
  if (services.length === 0) {
    const what = name ? `no service named '${name}'` : 'no netref service';
    console.error(
      `${what} answered within ${timeout ?? DEFAULT_DISCOVER_TIMEOUT} ms${v.registry ? ` (registry ${v.registry})` : ''}`,
    );
    return 1;
  }
  console.log(discoveryTable(services));
  return 0;
}
