import { PROTOCOL_VERSION } from '../protocol/index.js';
import type { DiscoveredService } from './DiscoveredService.js';

/**
 * Whether an answer is one `discover(name, { all })` should return: its `names` include `name` (case-insensitive;
 * the instance name itself matches too), and it speaks this protocol major (`v` TXT entry) unless `all` is set.
 * No `name` matches every netref service.
 */
export function matchService(
  service: Pick<DiscoveredService, 'name' | 'names' | 'txt'>,
  name?: string,
  all = false,
): boolean {
  if (!all && service.txt.v !== String(PROTOCOL_VERSION.major)) return false;
  if (name === undefined || name === '') return true;
  const wanted = name.toUpperCase();
  return service.names.includes(wanted) || service.name.toUpperCase() === wanted;
}
