// Regular expressions over query names, in Go's RE2 syntax as CoreDNS's template and rewrite write them
// (`(?P<name>...)`, no backreferences, no lookaround). They run on re2js, a linear-time engine, not on
// JavaScript's backtracking RegExp: a pattern like `(a+)+$` cannot stall the event loop. The cost of a match is
// bounded by pattern size times name length, and both are bounded: patterns by MAX_PATTERN_LENGTH (CoreDNS's
// limit), names by the 255 bytes a DNS name can have.
import { RE2JS } from 're2js';

/** CoreDNS's maxRegexpLen: longer patterns are refused at setup. */
export const MAX_PATTERN_LENGTH = 10000;

export class NameRegex {
  readonly source: string;
  readonly #re: RE2JS;
  /** Capture group names by number (index 0, the whole match, has none). */
  readonly groupNames: readonly (string | undefined)[];
  /** `.*`, the template plugin's default: every name matches whole (names hold no newline), no engine run. */
  readonly #any: boolean;

  private constructor(source: string, re: RE2JS) {
    this.source = source;
    this.#re = re;
    const names: (string | undefined)[] = new Array<string | undefined>(re.groupCount() + 1).fill(undefined);
    for (const [name, index] of Object.entries(re.namedGroups())) names[index] = name;
    this.groupNames = names;
    this.#any = source === '.*';
  }

  /** Compiles `source`; throws an Error saying what is wrong (too long, not RE2 syntax). */
  static compile(source: string): NameRegex {
    if (source.length > MAX_PATTERN_LENGTH) throw new Error(`regex pattern too long: ${source.length} > ${MAX_PATTERN_LENGTH}`);
    try {
      return new NameRegex(source, RE2JS.compile(source));
    } catch (err) {
      throw new Error(`could not parse regex: ${source}: ${(err as Error).message}`);
    }
  }

  test(name: string): boolean {
    return this.#any || this.#re.test(name);
  }

  /** The whole match and every group ('' for a group that did not take part), or undefined. */
  exec(name: string): string[] | undefined {
    if (this.#any) return [name];
    const m = this.#re.matcher(name);
    if (!m.find()) return undefined;
    const out: string[] = [];
    for (let i = 0; i < this.groupNames.length; i++) out.push(m.group(i) ?? '');
    return out;
  }
}
