import type { Connection } from './Connection.js';
import type { ProtocolConfig } from './ProtocolConfig.js';

/**
 * The object one end exposes as its root. Subclass it: public methods are callable by the peer, names starting
 * with `_` never are, and the lifecycle hooks below are never reachable remotely.
 *
 * Give a server (or `connect`'s `service` option) the class to get one instance per connection, or an instance to
 * share it between connections.
 */
export class Service {
  /** More discovery names besides the derived one. */
  static aliases: readonly string[] = [];
  /** Overrides the derived discovery name (class name less a trailing `Service`, upper-cased). */
  static serviceName?: string;
  /** Config this service asks of every connection it serves; the connection's own options come on top. */
  static protocolConfig?: Partial<ProtocolConfig>;
  /**
   * Doc strings of members by name, for `describe()` (and the shell): `static docs = { add: 'Adds two numbers' }`.
   * A subclass's map is read before its base classes'; names that are not reachable are never described.
   */
  static docs?: Readonly<Record<string, string>>;

  /** Called when a connection to this service is up; a throw or rejection is logged, not sent anywhere. */
  onConnect(_conn: Connection): void | Promise<void> {}
  /** Called once the connection has closed. */
  onDisconnect(_conn: Connection): void | Promise<void> {}
}

/** Exposes nothing: for an end that only calls. */
export class VoidService extends Service {}

/** A Service class or instance, as servers and factories take it. */
export type ServiceLike = Service | (new () => Service) | object;

/** The discovery names of a service: the derived (or given) name, then the aliases. */
export function serviceNames(service: ServiceLike): string[] {
  const cls = (typeof service === 'function' ? service : (service as object).constructor) as {
    name: string;
    serviceName?: string;
    aliases?: readonly string[];
  };
  const base = cls.serviceName ?? cls.name.replace(/Service$/, '').toUpperCase();
  const names = [base || 'VOID', ...(cls.aliases ?? []).map((a) => a.toUpperCase())];
  return [...new Set(names)];
}

/** Instantiates a service class, or passes an instance through. */
export function serviceInstance(service: ServiceLike | undefined): object {
  if (service === undefined) return new VoidService();
  if (typeof service === 'function') return new (service as new () => object)();
  return service;
}
