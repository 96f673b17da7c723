// The minimal handler: a successful, non-delegation reply keeps its answer section only; the
// authority and additional sections (NS records, glue) are dropped to make it smaller.
import { isWireReply, messageOf, scanMessage, type Next, type Reply, type Request } from 'nodens';
import { replyKind } from './typify.js';

/** The reply without authority and additional records, or the same object when there is nothing to strip. */
export function minimize(reply: Reply, now = Date.now()): Reply {
  // A wire reply with no authority records and no additional ones but its OPT (which the server writes
  // anew) is already minimal: leave it undecoded.
  if (isWireReply(reply)) {
    const w = reply.wire;
    const additional = (w[10]! << 8) | w[11]!;
    if (((w[8]! << 8) | w[9]!) === 0 && (additional === 0 || (additional === 1 && onlyOpt(w)))) return reply;
  }
  const m = messageOf(reply);
  if (m.authority.length === 0 && m.additional.length === 0) return reply;
  if (replyKind(m, now) !== 'NOERROR') return reply;
  return { ...m, authority: [], additional: [] };
}

export function serveMinimal(req: Request, next: Next): Reply | Promise<Reply> {
  const reply = next();
  // Stay synchronous when the rest of the chain is.
  return reply instanceof Promise ? reply.then((r) => minimize(r)) : minimize(reply);
}

/** Is the one additional record of these bytes an OPT (a forwarded reply's usual shape)? */
function onlyOpt(wire: Uint8Array): boolean {
  try {
    return scanMessage(wire).optAt !== undefined;
  } catch {
    return false;
  }
}
