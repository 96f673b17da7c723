// Polls the SHA-512 of the config file and every file it imported; on a change asks the server to
// load the config again. A broken config is logged with its position and the old one keeps serving.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../../core/log.js';
import type { Counter, Gauge, Metrics } from '../../core/metrics.js';
import type { Handler, ServerControl } from '../../core/plugin.js';

/** SHA-512 over the files' contents in order; a file that cannot be read counts by its error code. */
export function checksum(files: readonly string[]): string {
  const h = createHash('sha512');
  for (const f of files) {
    h.update(`${f}\0`);
    try {
      h.update(readFileSync(f));
    } catch (err) {
      h.update(`\0unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    h.update('\0');
  }
  return h.digest('hex');
}

export class Reload implements Handler {
  #sum: string;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #failed: Counter;
  readonly #version: Gauge<'hash' | 'value'>;

  constructor(
    readonly files: readonly string[],
    /** The polling period, jitter included. */
    readonly intervalMs: number,
    private readonly control: ServerControl,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    this.#sum = checksum(files);
    this.#failed = metrics.counter('coredns_reload_failed_total', 'Counter of the number of failed reload attempts.');
    this.#version = metrics.gauge('coredns_reload_version_info', 'A metric with a constant \'1\' value labeled by hash, and value which type of hash generated.', ['hash', 'value']);
  }

  start(): void {
    // One series: the config this process serves now.
    this.#version.reset();
    this.#version.set({ hash: 'sha512', value: this.#sum }, 1);
    this.#schedule();
  }

  /** Compares the checksum; reloads when it changed. Returns whether a reload was attempted. */
  async check(): Promise<boolean> {
    const sum = checksum(this.files);
    if (sum === this.#sum) return false;
    // Remember the new sum even if the reload fails: a broken file is not retried until it changes again.
    this.#sum = sum;
    try {
      await this.control.reload();
      // This instance belongs to the old config now; the server closes it once its queries drain.
      this.#stopped = true;
    } catch (err) {
      this.#failed.inc();
      this.logger.error(`Corefile changed but reload failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return true;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.check().finally(() => this.#schedule());
    }, this.intervalMs).unref();
  }

  close(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
