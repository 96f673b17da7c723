// The log handler: registers an onDone listener for matching names and runs the rest of the chain.
import type { Logger } from '../../core/log.js';
import type { Reply } from '../../core/message.js';
import type { Done, Next, Request } from '../../core/plugin.js';
import { isInZone } from '../../core/zones.js';
import { classify, queryFields, type ResponseClass } from './format.js';

export interface LogRule {
  /** Names (normalised zones) whose queries are logged. */
  readonly names: readonly string[];
  readonly render: (req: Request, done: Done) => string;
  /** Empty or containing 'all': every reply. */
  readonly classes: ReadonlySet<ResponseClass>;
}

/**
 * Queries already taken by a log instance. CoreDNS logs a query by the first rule that matches it;
 * repeated `log` lines run in file order here, so the first instance to match claims the query.
 */
const claimed = new WeakSet<Request>();

export function serveLog(rule: LogRule, logger: Logger, req: Request, next: Next): Reply | Promise<Reply> {
  if (claimed.has(req) || !rule.names.some((n) => isInZone(req.qname, n))) return next();
  claimed.add(req);
  req.onDone((done) => {
    if (!rule.classes.has('all') && !rule.classes.has(classify(req, done.reply))) return;
    // CoreDNS prints query lines through log.Infof, so they carry its "[INFO] " prefix.
    logger.raw(`[INFO] ${rule.render(req, done)}`, () => queryFields(req, done));
  });
  return next();
}
