// The loadbalance handler: reorders A, AAAA and MX records of the reply from the rest of the chain.
import { isWireReply, messageOf, WireReply, type Message, type Reply, type WireAnswer } from '../../core/message.js';
import type { Next, Request } from '../../core/plugin.js';
import { wireAnswer } from '../../core/wire.js';
import { mathRandom, roundRobin, shuffleable, type Random } from './shuffle.js';
import { shuffleWire, shuffleWireInPlace } from './wire-shuffle.js';

function worthShuffling(m: Message): boolean {
  for (const section of [m.answer, m.authority, m.additional]) {
    const n = shuffleable(section);
    if (n.addresses > 1 || n.mx > 1) return true;
  }
  return false;
}

/** A reply in wire form whose header says there is nothing to move: an error, or fewer than two records in all. */
function nothingToMove(w: Uint8Array): boolean {
  return (w[3]! & 0x0f) !== 0 || ((w[6]! << 8) | w[7]!) + ((w[8]! << 8) | w[9]!) + ((w[10]! << 8) | w[11]!) < 2;
}

/** The reply with its sections in round-robin order, or the same object when there is nothing to move. */
export function balance(reply: Reply, qtype: string, random?: Random): Reply {
  if (isWireReply(reply)) {
    if (nothingToMove(reply.wire)) return reply;
    // Many addresses in wire form (a headless Service): moved as bytes, not decoded and encoded again.
    if (reply.layout?.records && qtype !== 'AXFR' && qtype !== 'IXFR') {
      const moved = shuffleWire(reply, random ?? mathRandom);
      if (moved) return moved;
    }
  }
  if (qtype === 'AXFR' || qtype === 'IXFR') return reply;
  const m = messageOf(reply);
  if (m.rcode !== 0 || !worthShuffling(m)) return reply;
  return {
    ...m,
    answer: roundRobin(m.answer, random),
    authority: roundRobin(m.authority, random),
    additional: roundRobin(m.additional, random),
  };
}

export function serveLoadbalance(req: Request, next: Next, random?: Random): Reply | Promise<Reply> {
  const reply = next();
  // Stay synchronous when the rest of the chain is (hosts): no promise per query.
  return reply instanceof Promise ? reply.then((r) => balance(r, req.qtype, random)) : balance(reply, req.qtype, random);
}

/**
 * balance() on the fast path's own copy of an answer: permuted in its bytes when it is the plain case,
 * else decoded, balanced and encoded again (MX, CNAMEs first), as serve() would have.
 */
export function balanceAnswer(reply: WireAnswer, qtype: string, random: Random = mathRandom): WireAnswer {
  if (nothingToMove(reply.wire) || qtype === 'AXFR' || qtype === 'IXFR') return reply;
  const moved = shuffleWireInPlace(reply, random);
  if (moved) return moved;
  const balanced = balance(new WireReply(reply.wire, reply.layout), qtype, random);
  return isWireReply(balanced) ? reply : wireAnswer(balanced);
}
