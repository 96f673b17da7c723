// The chaos handler: TXT queries in class CH for version.bind, version.server, authors.bind,
// hostname.bind and id.server (the BIND convention that dig and monitoring tools use).
import { makeReply, type Message, type Next, type Reply, type Request, type TXTRecord } from 'nodens';

export interface ChaosAnswers {
  readonly version: string;
  readonly authors: readonly string[];
  readonly hostname: () => string;
}

/** A TXT string holds at most 255 bytes: CoreDNS cuts longer values. */
export function trim(s: string): string {
  return s.length < 256 ? s : s.slice(0, 255);
}

export class Chaos {
  constructor(private readonly answers: ChaosAnswers, private readonly random: () => number = Math.random) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (req.qclass !== 'CH' || req.qtype !== 'TXT') return next();
    const texts = this.#texts(req.qname);
    if (texts === undefined) return next();
    const name = req.query.question[0]!.name;
    const answer: TXTRecord[] = texts.map((t) => ({ name, ttl: 0, class: 'CH', type: 'TXT', data: [t] }));
    return makeReply(req.query, { answer }) satisfies Message;
  }

  #texts(qname: string): string[] | undefined {
    switch (qname) {
      case 'authors.bind': return shuffled(this.answers.authors, this.random);
      case 'version.bind': case 'version.server': return [this.answers.version];
      case 'hostname.bind': case 'id.server': return [trim(this.answers.hostname())];
      default: return undefined;
    }
  }
}

/** A new array in random order (CoreDNS answers authors.bind in a random permutation). */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
