// Lints: configs that load but probably do not do what was meant. Each is a warning with a position.
import type { AnyPlugin } from '../plugin.js';
import { isInZone } from '../zones.js';
import type { ConfigWarning } from './errors.js';
import type { ParseContext, PluginEntry, Position } from './types.js';

interface LintEntry extends PluginEntry {
  readonly plugin: AnyPlugin;
}

/** Warnings about one server block whose plugins are in execution order. */
export function lintBlock(entries: readonly LintEntry[], zones: readonly string[], pos: Position, ctx: ParseContext): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (entries.length === 0 && zones.length > 0) {
    warnings.push({ code: 'WARN_EMPTY_CHAIN', pos, message: 'this server block has no plugins: every query for its zones will get SERVFAIL' });
  }
  // A plugin that answers every query for all of the block's zones hides every answering plugin after it.
  let shadow: { entry: LintEntry; zones: readonly string[] } | undefined;
  for (const entry of entries) {
    if (!entry.plugin.answers) continue;
    if (shadow) {
      const by = shadow.entry;
      warnings.push({
        code: 'WARN_UNREACHABLE', pos: entry.pos, plugin: entry.name,
        message: `${entry.name} can never answer: ${by.name} (at ${by.pos.line}:${by.pos.col}) runs before it and answers every query for ${shadow.zones.map(show).join(' ')} itself${by.plugin.answers && hasFallthrough(by) ? '' : ` (add 'fallthrough' to ${by.name}?)`}`,
      });
      continue;
    }
    const answered = (entry.plugin.answers as (o: unknown, c: ParseContext) => readonly string[])(entry.options, ctx);
    if (zones.length > 0 && zones.every((z) => answered.some((a) => isInZone(z, a)))) shadow = { entry, zones: answered };
  }
  return warnings;
}

function show(zone: string): string {
  return zone === '' ? '.' : `${zone}.`;
}

/** Whether the plugin's options have a fallthrough property (then the advice would be to widen it). */
function hasFallthrough(entry: LintEntry): boolean {
  return typeof entry.options === 'object' && entry.options !== null && 'fallthrough' in entry.options;
}
