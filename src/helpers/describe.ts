import { ProtocolError, type MemberDescription } from '../core/index.js';
import { requireNode } from './callOptions.js';

const KINDS = new Set(['method', 'property', 'getter']);

/**
 * The names the remote object behind `netref` lets this end reach, each with its kind (`method`, `property`,
 * `getter`), arity (methods) and doc string (from the class's `static docs = { name: 'text' }`), sorted by name.
 * The remote end computes it through its own access check, so what it lists is exactly what this end may use; on a
 * classic end (`allowAllAttrs`) that is every own and inherited name but the never-reachable ones. Pipelines like a
 * read: `await describe(c.modules.os)` is one round trip.
 *
 * Rejects with AttributeError when the path to the object is refused, TypeError when given no netref,
 * ProtocolError when the peer's answer is malformed, and a NetrefError when the peer does not speak `describe`.
 */
export async function describe(netref: unknown): Promise<MemberDescription[]> {
  const node = requireNode(netref, 'describe');
  const answer: unknown = await node.session.request('describe', node, null);
  if (!Array.isArray(answer)) throw new ProtocolError('the peer answered describe with something other than a list');
  return answer.map((m: unknown) => {
    const { name, kind, arity, doc } = (m ?? {}) as Record<string, unknown>;
    if (
      typeof name !== 'string' ||
      typeof kind !== 'string' ||
      !KINDS.has(kind) ||
      (arity !== undefined && typeof arity !== 'number') ||
      (doc !== undefined && typeof doc !== 'string')
    ) {
      throw new ProtocolError('the peer answered describe with a malformed member');
    }
    const member: MemberDescription = { name, kind: kind as MemberDescription['kind'] };
    if (arity !== undefined) member.arity = arity;
    if (doc !== undefined) member.doc = doc;
    return member;
  });
}
