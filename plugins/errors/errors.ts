// The errors handler: logs what plugins threw, once the reply is sent, as CoreDNS's errors plugin does.
import type { Logger } from '../../core/log.js';
import { fqdn, type Reply } from '../../core/message.js';
import type { Next, Request } from '../../core/plugin.js';
import type { Consolidator } from './consolidate.js';

export function serveErrors(consolidator: Consolidator, logger: Logger, req: Request, next: Next): Reply | Promise<Reply> {
  req.onDone((done) => {
    if (done.error === undefined) return;
    const message = done.error.message;
    if (consolidator.take(message)) return;
    // CoreDNS's line, and the only one: the server leaves failures to us (Handler.logsErrors).
    logger.error(`${done.rcode} ${fqdn(req.qname)} ${req.qtype}: ${message}`);
  });
  return next();
}
