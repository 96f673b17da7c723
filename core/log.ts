// Diagnostic logging: CoreDNS-style lines ("[INFO] plugin/hosts: ...") or one JSON object a line
// ({"level","ts","plugin","msg"} and, for query lines, one field per log placeholder; docs/log-schema.json).
// Plugins receive a Logger from setup; nobody imports a global one.

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'fatal';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /**
   * A line written as is (the log plugin's query lines, with their own "[INFO] " tag). In JSON, the tag
   * becomes the level, the rest the msg, and `fields` (asked for only then) are added to the object.
   */
  raw(line: string, fields?: () => Readonly<Record<string, LogValue>>): void;
  /** A logger for a plugin: lines get "plugin/NAME: ". */
  child(plugin: string): Logger;
}

export type LogValue = string | number | boolean | null;

export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  format?: 'text' | 'json';
  sink?: LogSink;
  debug?: boolean;
  quiet?: boolean;
}

const LEVEL_TAG: Record<LogLevel, string> = { debug: '[DEBUG]', info: '[INFO]', warning: '[WARNING]', error: '[ERROR]', fatal: '[FATAL]' };
const TAG_LEVEL = new Map(Object.entries(LEVEL_TAG).map(([level, tag]) => [`${tag} `, level as LogLevel]));

/** The `plugin` of JSON lines that no plugin wrote (start-up, shutdown, the query path's own errors). */
export const CORE_PLUGIN = 'core';

export function createLogger(opts: LoggerOptions = {}, plugin?: string): Logger {
  const sink = opts.sink ?? { write: (line: string) => process.stdout.write(`${line}\n`) };
  const json = (level: LogLevel, msg: string, fields?: Readonly<Record<string, LogValue>>): string =>
    JSON.stringify({ level, ts: new Date().toISOString(), plugin: plugin ?? CORE_PLUGIN, msg, ...fields });
  const emit = (level: LogLevel, message: string): void => {
    if (level === 'debug' && !opts.debug) return;
    if (opts.quiet && (level === 'info' || level === 'debug')) return;
    if (opts.format === 'json') {
      sink.write(json(level, message));
    } else {
      sink.write(`${LEVEL_TAG[level]} ${plugin ? `plugin/${plugin}: ` : ''}${message}`);
    }
  };
  const raw = (line: string, fields?: () => Readonly<Record<string, LogValue>>): void => {
    if (opts.format !== 'json') return sink.write(line);
    const close = line.indexOf('] ');
    const level = close > 0 ? TAG_LEVEL.get(line.slice(0, close + 2)) : undefined;
    sink.write(json(level ?? 'info', level ? line.slice(close + 2) : line, fields?.()));
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warning', m),
    error: (m) => emit('error', m),
    raw,
    child: (name) => createLogger(opts, name),
  };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ sink: { write: (l) => lines.push(l) }, debug: true });
  return Object.assign(logger, { lines });
}

/**
 * Says a repeating thing once per interval: the first occurrence at once, then a count of the
 * rest when the interval has passed. For errors that could otherwise flood the log per query.
 */
export class RateLimitedLog {
  #last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  /** Returns the line to log now, or undefined to stay quiet. */
  line(key: string, message: string): string | undefined {
    const t = this.now();
    const seen = this.#last.get(key);
    if (seen && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return undefined;
    }
    this.#last.set(key, { at: t, suppressed: 0 });
    if (this.#last.size > 1000) this.#last.clear();
    return seen && seen.suppressed > 0 ? `${message} (and ${seen.suppressed} more like it)` : message;
  }
}
