// What a rewrite rule is: it reads the question (and EDNS options) a query has so far and says what to change,
// and which response rules map the reply back. One `rewrite` directive is one rule.
import type { EdnsOption, Request } from 'nodens';

export type { EdnsOption };

export type Mode = 'stop' | 'continue';

/** The query as a rule sees it: names fully qualified and lower-cased, as CoreDNS's state.Name(). */
export interface RuleQuery {
  readonly name: string;
  readonly type: string;
  readonly class: string;
  readonly ednsOptions: readonly EdnsOption[];
  readonly req: Request;
}

/** What a matched rule changes (fully qualified names), and how the reply is mapped back. */
export interface Rewritten {
  name?: string;
  type?: string;
  class?: string;
  ednsOptions?: readonly EdnsOption[];
  readonly response: readonly ResponseRule[];
}

/** Maps a reply: record names, record values (CNAME, SRV, MX...), TTLs, the rcode, EDNS options. */
export type ResponseRule =
  | { readonly kind: 'name' | 'value'; readonly map: (fqdn: string) => string }
  | { readonly kind: 'ttl'; readonly min: number; readonly max: number }
  | { readonly kind: 'rcode'; readonly from: number; readonly to: number }
  | { readonly kind: 'edns0'; readonly code: number; readonly restore: EdnsOption | undefined };

export interface Rule {
  readonly mode: Mode;
  /** undefined: the rule does not apply to this query. */
  rewrite(q: RuleQuery): Rewritten | undefined;
}

/** A rule's argument that is wrong: `arg` is its index among the rule's words (for the config position). */
export class RuleError extends Error {
  constructor(message: string, readonly arg: number) {
    super(message);
    this.name = 'RuleError';
  }
}

/** CoreDNS's plugin.Name(s).Normalize(): lower-cased and fully qualified. */
export function normalize(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

export type MatchType = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';
export const MATCH_TYPES: readonly MatchType[] = ['exact', 'prefix', 'suffix', 'substring', 'regex'];
