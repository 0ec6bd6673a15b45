/** One answer of `discover` (DESIGN §3): a netref server found on the LAN or in a registry. */
export interface DiscoveredService {
  /** The instance name, unique on the link (`CALCULATOR on box`, `CALCULATOR on box (2)` after a conflict). */
  name: string;
  /** The discovery names it answers to (the `names` TXT entry): derived name first, then aliases. */
  names: string[];
  /** Its host name (`box.local`), as its SRV record says. */
  host: string;
  port: number;
  /**
   * Addresses to try, best first: the address its answer came from leads (it is on this link), then the others it
   * announced. Never empty for an mDNS answer: when it announced none, the answer's source address stands in.
   */
  addresses: string[];
  /** Its whole TXT record (`names`, `v`, `auth`, `pk`, and whatever else it announced), keys lower-cased. */
  txt: Record<string, string>;
}
