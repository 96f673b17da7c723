// What a rewrite rule is: it reads the question (and EDNS options) a query has so far and says what to change,
// and which response rules map the reply back. One `rewrite` directive is one rule.
import type { EdnsOption, Request } from 'nodens';

export type { EdnsOption };

export type Mode = 'stop' | 'continue';

/** What a matched rule changes, and how the reply is mapped back. */
export interface Rewritten {
  /** The new name as nodens keeps names: lower-cased, without the trailing dot. */
  name?: string;
  type?: string;
  class?: string;
  ednsOptions?: readonly EdnsOption[];
  readonly response: readonly ResponseRule[];
}

/**
 * Maps a reply: record names, record values (CNAME, SRV, MX...), TTLs, the rcode, EDNS options. A name map takes
 * names fully qualified (`a.b.`, as a regex written for CoreDNS expects them), or as nodens keeps them (`a.b`)
 * when `bare` is set, which saves two string copies per record on the common rules.
 */
export type ResponseRule =
  | { readonly kind: 'name' | 'value'; readonly map: (name: string) => string; readonly bare: boolean }
  | { readonly kind: 'ttl'; readonly min: number; readonly max: number }
  | { readonly kind: 'rcode'; readonly from: number; readonly to: number }
  | { readonly kind: 'edns0'; readonly code: number; readonly restore: EdnsOption | undefined };

export interface Rule {
  readonly mode: Mode;
  /**
   * What the rule changes for this query, or undefined when it does not apply. `qname` is the question's name
   * as nodens keeps it (lower-cased, no trailing dot); rules match it fully qualified, as CoreDNS's state.Name().
   */
  rewrite(qname: string, req: Request): Rewritten | undefined;
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
