// Collects the independent errors of one load, so a config with three typos is fixed in one edit.
import { asConfigError, type ConfigError, ConfigErrors, type ConfigWarning } from './errors.js';
import type { Position } from './types.js';

/** Enough to fix in one sitting; past it, later errors are often echoes of earlier ones. */
export const MAX_ERRORS = 20;

export class Collector {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  truncated = false;

  constructor(readonly file: string) {}

  /** Runs `fn`; a ConfigError it throws is kept and undefined returned. Other errors go on up. */
  run<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.add(err);
      return undefined;
    }
  }

  add(err: unknown): void {
    const e = asConfigError(err);
    if (!e) throw err;
    if (e instanceof ConfigErrors) {
      for (const one of e.errors) this.add(one);
      return;
    }
    if (this.errors.length >= MAX_ERRORS) {
      this.truncated = true;
      return;
    }
    if (!this.errors.some((x) => x.message === e.message)) this.errors.push(e);
  }

  warn(w: ConfigWarning): void {
    this.warnings.push(w);
  }

  /** Throws every error kept, in file order (files in the order first read); nothing if none. */
  throwIfAny(fileOrder: readonly string[], sourceLine: (pos: Position) => string | undefined): void {
    for (const w of this.warnings) if (w.pos && w.sourceLine === undefined) w.sourceLine = sourceLine(w.pos);
    if (this.errors.length === 0) return;
    for (const e of this.errors) if (e.pos && e.sourceLine === undefined) e.sourceLine = sourceLine(e.pos);
    const rank = (e: ConfigError): [number, number, number] => {
      if (!e.pos) return [-1, 0, 0];
      const f = fileOrder.indexOf(e.pos.file);
      return [f < 0 ? fileOrder.length : f, e.pos.line, e.pos.col];
    };
    const sorted = [...this.errors].sort((a, b) => {
      const [fa, la, ca] = rank(a);
      const [fb, lb, cb] = rank(b);
      return fa - fb || la - lb || ca - cb;
    });
    throw new ConfigErrors(sorted, this.file, this.truncated);
  }
}
