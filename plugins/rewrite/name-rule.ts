// `rewrite name [exact|prefix|suffix|substring|regex] FROM TO [answer auto|name FROM TO|value FROM TO]...`,
// as CoreDNS's plugin/rewrite/name.go: names are matched fully qualified and lower-cased, FROM and TO are
// normalised the same way (a regex FROM excepted), and `{N}` in a regex TO is the N-th group.
import { fqdn } from 'nodens';
import { NameRegex } from '../pkg/name-regex.js';
import { fromFqdn, nameProblem } from '../pkg/dns-name.js';
import { MATCH_TYPES, normalize, RuleError, type MatchType, type Mode, type ResponseRule, type Rule, type Rewritten } from './rule.js';

type StringRewriter = (src: string) => string;

/** `{0}`, `{1}`...: the groups of a regex match. */
function substitute(template: string, groups: readonly string[]): string {
  let s = template;
  for (let i = 0; i < groups.length; i++) s = s.replaceAll(`{${i}}`, groups[i]!);
  return s;
}

function regexRewriter(pattern: NameRegex, replacement: string): StringRewriter {
  return (src) => {
    const groups = pattern.exec(src);
    return groups === undefined ? src : substitute(replacement, groups);
  };
}

/** `orig` and its subdomains become `replacement` (answer auto for exact, prefix, substring and regex rules). */
function remapRewriter(orig: string, replacement: string): StringRewriter {
  return (src) => {
    if (src === orig) return replacement;
    const i = src.length - orig.length;
    return i > 0 && src.charCodeAt(i - 1) === 46 && src.endsWith(orig) ? src.slice(0, i) + replacement : src;
  };
}

function suffixRewriter(suffix: string, replacement: string): StringRewriter {
  return (src) => (src.endsWith(suffix) ? src.slice(0, src.length - suffix.length) + replacement : src);
}

/** How many distinct `{N}` (N ≤ 100) a replacement uses, as CoreDNS counts them. */
function groupsUsed(s: string): number {
  let n = 0;
  for (let i = 0; i <= 100; i++) if (s.includes(`{${i}}`)) n++;
  return n;
}

/** Compiles a regex FROM and checks that TO uses no more groups than it has. */
export function regexFor(from: string, to: string, fromArg: number, toArg: number): NameRegex {
  let pattern: NameRegex;
  try {
    pattern = NameRegex.compile(from);
  } catch (err) {
    throw new RuleError(`invalid regex matching pattern: ${(err as Error).message}`, fromArg);
  }
  if (groupsUsed(to) > pattern.groupNames.length - 1) {
    throw new RuleError(`the rewrite regex pattern (${to}) uses more subexpressions than its corresponding matching regex pattern (${from})`, toArg);
  }
  return pattern;
}

/**
 * Is TO (with `{N}` standing for a label) able to make a valid name? Checked when the server starts; a name that
 * only a regex group makes invalid is caught per query (SERVFAIL, logged).
 */
function checkTarget(to: string, match: MatchType, arg: number): void {
  let probe = to.replace(/\{\d+\}/g, 'x');
  // A suffix or substring replacement may start inside a label (`.google.com.`), a prefix end inside one.
  if (match !== 'exact' && match !== 'regex') probe = probe.replace(/^\./, '');
  if (match === 'prefix' || match === 'substring') probe = probe.replace(/\.$/, '');
  const problem = probe === '' ? undefined : nameProblem(fromFqdn(probe));
  if (problem) throw new RuleError(`cannot rewrite to ${to}: ${problem}`, arg);
}

/** Parses `answer auto | answer name FROM TO | [answer] value FROM TO ...` (CoreDNS's parseAnswerRules). */
function parseAnswers(words: readonly string[], base: number): { auto: boolean; rules: ResponseRule[] } {
  let auto = false;
  let nameRules = 0;
  let last = '';
  const rules: ResponseRule[] = [];
  if (words.length < 2) throw new RuleError('invalid arguments for the answer rules of a name rule', base);
  let i = 0;
  while (i < words.length) {
    if (last === '' && words[i] !== 'answer') throw new RuleError(`'${words[i]}' is not an answer rule (answer auto|name FROM TO|value FROM TO)`, base + i);
    if (words[i] === 'answer') i++;
    if (i >= words.length) throw new RuleError('type missing for answer rule (auto, name or value)', base + i - 1);
    last = words[i]!;
    const at = base + i;
    i++;
    switch (last) {
      case 'auto':
        auto = true;
        break;
      case 'name': case 'value': {
        if (words.length - i < 2) throw new RuleError(`${last} answer rule: 2 arguments required`, at);
        const from = words[i]!;
        const to = normalize(words[i + 1]!);
        const pattern = regexFor(from, to, base + i, base + i + 1);
        rules.push({ kind: last, map: regexRewriter(pattern, to), bare: false });
        if (last === 'name') nameRules++;
        i += 2;
        break;
      }
      default:
        throw new RuleError(`invalid type "${last}" for answer rule (auto, name or value)`, at);
    }
  }
  if (auto && nameRules > 0) throw new RuleError('auto name answer rule cannot be combined with explicit name answer rules', base);
  return { auto, rules };
}

/** `words` are the rule's arguments after `name`; `base` is the index of the first among the directive's words. */
export function nameRule(mode: Mode, words: readonly string[], base: number): Rule {
  if (words.length < 2) throw new RuleError('too few arguments for a name rule', base - 1);
  let match: MatchType;
  let from: string;
  let to: string;
  if (words.length === 2) {
    match = 'exact';
    from = normalize(words[0]!);
    to = normalize(words[1]!);
  } else {
    const m = words[0]!.toLowerCase();
    if (!MATCH_TYPES.includes(m as MatchType)) {
      throw new RuleError(`name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${words[0]}`, base);
    }
    match = m as MatchType;
    from = match === 'regex' ? words[1]! : normalize(words[1]!);
    to = normalize(words[2]!);
  }
  const toArg = base + (words.length === 2 ? 1 : 2);
  checkTarget(to, match, toArg);
  let auto = match === 'exact';
  let answers: ResponseRule[] = [];
  if (words.length > 3) {
    const parsed = parseAnswers(words.slice(3), base + 3);
    auto ||= parsed.auto;
    answers = parsed.rules;
  }
  const pattern = match === 'regex' ? regexFor(from, to, base + 1, toArg) : undefined;

  // FROM and TO are fully qualified; exact and suffix rules compare and build names without the final dot,
  // which is the same test (both end in one) without copying the query name.
  const fromBare = bare(from);
  const toBare = bare(to);
  // What a match maps back. `answer auto` on a suffix rule maps TO back to FROM, the same for every query; on the
  // other rules it maps the new name back to the one asked, so it is made per query. Without auto: the answer rules.
  const fixed = match === 'suffix' && auto ? [...namesAndValues(suffixRewriter(toBare, fromBare)), ...answers] : answers;
  const perQuery = auto && match !== 'suffix';
  /** `qname` and `name` without the final dot. */
  const done = (qname: string, name: string): Rewritten =>
    ({ name, response: perQuery ? [...namesAndValues(remapRewriter(name, qname)), ...answers] : fixed });

  switch (match) {
    case 'exact':
      return { mode, rewrite: (qname) => (qname === fromBare ? done(qname, toBare) : undefined) };
    case 'suffix':
      return {
        mode,
        rewrite: (qname) => (qname.endsWith(fromBare) ? done(qname, qname.slice(0, qname.length - fromBare.length) + toBare) : undefined),
      };
    case 'prefix':
      return {
        mode,
        rewrite: (qname) => {
          const name = fqdn(qname);
          return name.startsWith(from) ? done(qname, bare(to + name.slice(from.length))) : undefined;
        },
      };
    case 'substring':
      return {
        mode,
        rewrite: (qname) => {
          const name = fqdn(qname);
          return name.includes(from) ? done(qname, bare(name.replaceAll(from, to))) : undefined;
        },
      };
    case 'regex':
      return {
        mode,
        rewrite: (qname) => {
          const groups = pattern!.exec(fqdn(qname));
          return groups === undefined ? undefined : done(qname, bare(substitute(to, groups)));
        },
      };
  }
}

/** Response rules mapping record names and record values with `map` (names without the final dot). */
function namesAndValues(map: StringRewriter): ResponseRule[] {
  return [{ kind: 'name', map, bare: true }, { kind: 'value', map, bare: true }];
}

/** A fully qualified name without its final dot (the root is ''). */
function bare(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
