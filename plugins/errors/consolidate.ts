// Consolidation of repeated errors: one line per pattern and period instead of one per query.
import type { Logger } from '../../core/log.js';

export type ConsolidateLevel = 'warning' | 'error' | 'info' | 'debug';

/** A duration as Go's time.Duration.String() prints it ("30s", "5m0s", "1h30m0s", "300ms"), for CoreDNS's message. */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  const num = (v: number): string => v.toFixed(9).replace(/\.?0+$/, '');
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${num(ns / 1e3)}µs`;
  if (ns < 1e9) return `${num(ns / 1e6)}ms`;
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns - h * 3.6e12) / 6e10);
  const s = (ns - h * 3.6e12 - m * 6e10) / 1e9;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${num(s)}s`;
}

export interface PatternSpec {
  readonly periodMs: number;
  /** As written in the config, for the message. */
  readonly source: string;
  readonly re: RegExp;
  readonly level: ConsolidateLevel;
  readonly showFirst: boolean;
}

interface PatternState extends PatternSpec {
  count: number;
  timer: NodeJS.Timeout | undefined;
}

export class Consolidator {
  readonly #patterns: PatternState[];
  #stopped = false;

  constructor(specs: readonly PatternSpec[], private readonly logger: Logger) {
    this.#patterns = specs.map((s) => ({ ...s, count: 0, timer: undefined }));
  }

  /**
   * Counts an error against the first pattern it matches. True: it was consolidated, log nothing
   * now. False: log it as usual (no pattern matched, the first of a show_first period, or stopped).
   */
  take(message: string): boolean {
    if (this.#stopped) return false;
    const p = this.#patterns.find((x) => x.re.test(message));
    if (p === undefined) return false;
    p.count++;
    if (p.count > 1) return true;
    // The period starts with its first error, as CoreDNS's time.AfterFunc does.
    p.timer = setTimeout(() => this.#flush(p), p.periodMs);
    p.timer.unref();
    return !p.showFirst;
  }

  #flush(p: PatternState): void {
    // With show_first the first error was already logged on its own: report only the others.
    const n = p.showFirst ? p.count - 1 : p.count;
    p.count = 0;
    p.timer = undefined;
    if (n <= 0) return;
    const line = `${n} errors like '${p.source}' occurred in last ${goDuration(p.periodMs)}`;
    switch (p.level) {
      case 'warning': this.logger.warn(line); break;
      case 'info': this.logger.info(line); break;
      case 'debug': this.logger.debug(line); break;
      default: this.logger.error(line);
    }
  }

  /** Stops counting and reports what was counted so far (on shutdown). */
  stop(): void {
    this.#stopped = true;
    for (const p of this.#patterns) {
      if (p.timer === undefined) continue;
      clearTimeout(p.timer);
      this.#flush(p);
    }
  }
}
