// Helpers for a plugin's parse(): argument counts, numbers, durations, zones, unknown properties.
// Each throws a ConfigError at the offending token, so every plugin reports errors the same way.
import { cidrToReverseZones } from '../ip.js';
import { normalizeZone } from '../zones.js';
import { ConfigError, didYouMean, errorAt } from './errors.js';
import type { Directive, ParseContext, Position, Token } from './types.js';

/** Checks the number of arguments of a directive or property. */
export function expectArgs(d: Directive, plugin: string, min: number, max = min): readonly Token[] {
  const n = d.args.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    const at = n > max ? d.args[max]! : d.name;
    throw new ConfigError(at.pos, plugin, `${prefixOf(d, plugin)}wrong argument count: want ${want}, got ${n}`, 'ERR_ARG_COUNT');
  }
  return d.args;
}

/** Rejects a block where the directive takes none. */
export function expectNoBlock(d: Directive, plugin: string): void {
  if (d.block && d.block.length > 0) errorAt(d.block[0]!.name, plugin, `${d.name.text} takes no block`, 'ERR_SYNTAX');
}

/** `success: ` for a property; nothing for the directive itself, which the plugin prefix already names. */
function prefixOf(d: Directive, plugin: string): string {
  return d.name.text === plugin ? '' : `${d.name.text}: `;
}

/** An unknown property: a ConfigError with a "did you mean" among the known ones. */
export function unknownProperty(prop: Directive, plugin: string, known: readonly string[]): never {
  const guess = didYouMean(prop.name.text, known);
  throw new ConfigError(
    prop.name.pos, plugin,
    `unknown property '${prop.name.text}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
    'ERR_UNKNOWN_PROPERTY',
  );
}

export function intArg(tok: Token, plugin: string, min = -Infinity, max = Infinity): number {
  if (!/^-?\d+$/.test(tok.text)) errorAt(tok, plugin, `'${tok.text}' is not an integer`, 'ERR_BAD_VALUE');
  const v = Number(tok.text);
  if (v < min || v > max) {
    const range = max === Infinity ? `at least ${min}` : min === -Infinity ? `at most ${max}` : `${min} to ${max}`;
    errorAt(tok, plugin, `${v} is out of range (want ${range})`, 'ERR_BAD_VALUE');
  }
  return v;
}

export function oneOf<T extends string>(tok: Token, plugin: string, values: readonly T[]): T {
  if ((values as readonly string[]).includes(tok.text)) return tok.text as T;
  const guess = didYouMean(tok.text, values);
  return errorAt(tok, plugin, `'${tok.text}' must be one of ${values.join(', ')}${guess ? ` (did you mean '${guess}'?)` : ''}`, 'ERR_BAD_VALUE');
}

/** A Go-style duration: 300ms, 5s, 1m30s, 2h; a bare integer means seconds (as CoreDNS accepts in places). */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ns|us|µs|ms|s|m|h))+$|^\\d+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration string; throws on a malformed one. */
export function parseDuration(text: string): number {
  if (!DURATION_RE.test(text)) throw new Error(`'${text}' is not a duration (like 500ms, 5s, 1m)`);
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** Validates a duration token and returns its text (options keep durations as strings, as YAML writes them). */
export function durationArg(tok: Token, plugin: string): string {
  if (!DURATION_RE.test(tok.text)) errorAt(tok, plugin, `'${tok.text}' is not a duration (like 500ms, 5s, 1m)`, 'ERR_BAD_VALUE');
  return tok.text;
}

/**
 * ZONES arguments: normalised, CIDRs expanded to reverse zones, each required to lie within the
 * block's zones. No arguments: the block's zones.
 */
export function zonesArg(tokens: readonly Token[], ctx: ParseContext, plugin: string): string[] {
  if (tokens.length === 0) return [...ctx.zones];
  const zones: string[] = [];
  for (const tok of tokens) {
    const looks = looksLikeNumber(tok);
    if (looks) {
      errorAt(tok, plugin, `'${tok.text}' is read as a zone here, but it looks like ${looks}; write '${tok.text}.' if it is a zone`, 'ERR_ZONE_LOOKS_LIKE_NUMBER');
    }
    const expanded = tok.text.includes('/') ? cidrToReverseZones(tok.text) : [normalizeZone(tok.text)];
    if (!expanded) errorAt(tok, plugin, `'${tok.text}' is not a valid CIDR`, 'ERR_BAD_VALUE');
    zones.push(...expanded);
  }
  return zones;
}

const NUMBER_WORDS = new Set([
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'fifteen',
  'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'ninety', 'hundred', 'thousand', 'million',
]);

/**
 * 'a number' or 'a duration' when a zone argument is one of those (`cache thirty`, `cache 30s`): a
 * single label no one would name a zone. A trailing dot (`thirty.`) says it is meant as a zone.
 */
function looksLikeNumber(tok: Token): string | undefined {
  const t = tok.text.toLowerCase();
  if (tok.quoted || (t.includes('.') && !/^\d+\.\d+[a-zµ]*$/.test(t)) || t.includes('/') || t.includes(':')) return undefined;
  if (/^\d+(\.\d+)?$/.test(t) || NUMBER_WORDS.has(t)) return 'a number';
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|sec|secs|second|seconds|min|mins|minutes?|hours?|d|days?))+$/.test(t)) return 'a duration';
  return undefined;
}

/** `fallthrough [ZONES...]`: no zones means every zone (an empty list). */
export function fallthroughArg(tokens: readonly Token[], ctx: ParseContext, plugin: string): string[] {
  return tokens.length === 0 ? [] : zonesArg(tokens, ctx, plugin);
}

/**
 * For a plugin's check(): ZONES written in YAML (or already parsed) made canonical as zonesArg makes
 * Corefile ones: normalised, CIDRs expanded. Undefined stays undefined (the block's zones apply).
 */
export function zonesOption(zones: readonly string[] | undefined, ctx: { at(path: readonly (string | number)[]): Position }, path: readonly (string | number)[], plugin: string): string[] | undefined {
  if (zones === undefined) return undefined;
  return zones.flatMap((z, i) => {
    const expanded = z.includes('/') ? cidrToReverseZones(z) : [normalizeZone(z)];
    if (!expanded) errorAt(ctx.at([...path, i]), plugin, `'${z}' is not a valid CIDR`, 'ERR_BAD_VALUE');
    return expanded;
  });
}
