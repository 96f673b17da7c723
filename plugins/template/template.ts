// The template handler: match zone, class, type and regex; render the records; chase CNAME targets.
import {
  DnsError, fallsThrough, fqdn, makeQuery, makeReply, matchZone, messageOf, Rcode, typeCode, withExtendedError,
  type Fallthrough, type Message, type Metrics, type Next, type Reply, type Request, type ResourceRecord,
} from 'nodens';
import type { NameRegex } from '../pkg/name-regex.js';
import { TemplateExecError, type CompiledTemplate, type TemplateData } from './go-template.js';
import { parseRecord, RecordSyntaxError } from './zone-record.js';

export interface RecordTemplate {
  readonly text: string;
  readonly render: CompiledTemplate;
}

/** One `template` directive, compiled. */
export interface Template {
  readonly zones: readonly string[];
  readonly qclass: string;
  readonly qtype: string;
  readonly regexes: readonly NameRegex[];
  readonly answer: readonly RecordTemplate[];
  readonly additional: readonly RecordTemplate[];
  readonly authority: readonly RecordTemplate[];
  readonly rcode: number;
  readonly ederror?: { readonly code: number; readonly reason?: string };
  readonly fall: Fallthrough;
}

export interface TemplateDeps {
  /** Runs a query through the server from the top: CNAME targets. */
  resolve(query: Message): Promise<Reply>;
  readonly metrics: Pick<Metrics, 'counter'>;
}

type Section = 'answer' | 'additional' | 'authority';

const CLASS_CODES: Record<string, number> = { IN: 1, CH: 3, CS: 2, HS: 4, NONE: 254, ANY: 255 };

export class TemplateHandler {
  readonly #t: Template;
  readonly #resolve: TemplateDeps['resolve'];
  readonly #matches;
  readonly #templateFailures;
  readonly #rrFailures;

  constructor(template: Template, deps: TemplateDeps) {
    this.#t = template;
    this.#resolve = deps.resolve;
    const labels = ['server', 'zone', 'view', 'class', 'type'] as const;
    const failure = [...labels, 'section', 'template'] as const;
    this.#matches = deps.metrics.counter('coredns_template_matches_total', 'Counter of template regex matches.', labels);
    this.#templateFailures = deps.metrics.counter('coredns_template_template_failures_total', 'Counter of go template failures.', failure);
    this.#rrFailures = deps.metrics.counter('coredns_template_rr_failures_total', 'Counter of mis-templated RRs.', failure);
  }

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const t = this.#t;
    const zone = matchZone(req.qname, t.zones);
    if (zone === undefined) return next();
    if (t.qclass !== 'ANY' && req.qclass !== 'ANY' && req.qclass !== t.qclass) return next();
    if (t.qtype !== 'ANY' && req.qtype !== 'ANY' && req.qtype !== t.qtype) return next();
    const name = fqdn(req.qname);
    for (const regex of t.regexes) {
      const match = regex.exec(name);
      if (match !== undefined) return this.#reply(req, this.#data(req, fqdn(zone), name, regex, match));
    }
    // The zone is ours but no regex matched: CoreDNS answers SERVFAIL unless told to fall through.
    return fallsThrough(t.fall, req.qname) ? next() : makeReply(req.query, { rcode: Rcode.SERVFAIL });
  }

  #data(req: Request, zone: string, name: string, regex: NameRegex, match: string[]): TemplateData {
    const t = this.#t;
    const group: Record<string, string> = {};
    for (let i = 0; i < match.length; i++) group[String(i)] = match[i]!;
    for (let i = 1; i < match.length; i++) {
      const g = regex.groupNames[i];
      if (g !== undefined) group[g] = match[i]!;
    }
    const cls = req.qclass !== 'ANY' ? req.qclass : t.qclass;
    const q = req.query.question[0]!;
    return {
      Zone: zone, Name: name, Regex: regex.source, Class: cls, Type: req.qtype !== 'ANY' ? req.qtype : t.qtype,
      Match: match, Group: group,
      Question: { Name: fqdn(q.name), Qtype: typeCode(q.type), Qclass: CLASS_CODES[q.class] ?? 0 },
      Remote: req.client.address,
      Meta: (label) => req.metadata.get(label) ?? '',
    };
  }

  #reply(req: Request, data: TemplateData): Reply | Promise<Reply> {
    const t = this.#t;
    this.#matches.inc({ server: req.server, zone: data.Zone, view: '', class: data.Class, type: data.Type });
    if (t.rcode === Rcode.SERVFAIL) return makeReply(req.query, { rcode: Rcode.SERVFAIL });
    const answer = t.answer.map((x) => this.#record(req, 'answer', x, data));
    const additional = t.additional.map((x) => this.#record(req, 'additional', x, data));
    const authority = t.authority.map((x) => this.#record(req, 'authority', x, data));
    let reply: Message = makeReply(req.query, { aa: true, rcode: t.rcode, answer, additional, authority });
    // `ederror`: an RFC 8914 Extended DNS Error (sent to clients that sent EDNS).
    if (t.ederror) reply = withExtendedError(reply, t.ederror.code, t.ederror.reason) as Message;
    if (req.qtype !== 'A' && req.qtype !== 'AAAA') return reply;
    const cnames = answer.filter((r) => r.type === 'CNAME');
    return cnames.length === 0 ? reply : this.#chase(req, reply, cnames);
  }

  /** Adds what the server answers for each CNAME target (CoreDNS's upstream lookup); a failed lookup adds nothing. */
  async #chase(req: Request, reply: Message, cnames: readonly ResourceRecord[]): Promise<Reply> {
    const answer = [...reply.answer];
    let tc = false;
    for (const cname of cnames) {
      try {
        const up = messageOf(await this.#resolve(makeQuery(cname.data as string, req.qtype)));
        answer.push(...up.answer);
        tc ||= up.tc;
      } catch {
        // As CoreDNS: the CNAME alone is still an answer.
      }
    }
    return { ...reply, answer, tc };
  }

  #record(req: Request, section: Section, tmpl: RecordTemplate, data: TemplateData): ResourceRecord {
    const labels = { server: req.server, zone: data.Zone, view: '', class: data.Class, type: data.Type, section, template: tmpl.text };
    let text: string;
    try {
      text = tmpl.render(data);
    } catch (err) {
      if (!(err instanceof TemplateExecError)) throw err;
      this.#templateFailures.inc(labels);
      throw new DnsError(Rcode.SERVFAIL, `${section} template "${tmpl.text}": ${err.message}`);
    }
    try {
      return parseRecord(text);
    } catch (err) {
      if (!(err instanceof RecordSyntaxError)) throw err;
      this.#rrFailures.inc(labels);
      throw new DnsError(Rcode.SERVFAIL, `${section} template "${tmpl.text}" rendered "${text}", which is not a record: ${err.message}`);
    }
  }
}
