// SIGUSR1 and SIGHUP reload the config, as CoreDNS does ("SIGUSR1: Reloading"). Listening on SIGUSR1 is also
// what keeps Node from opening its inspector on 127.0.0.1:9229 when that signal comes (Node's default for it),
// so both are listened to as soon as the CLI runs, before the config is read: a signal that comes before there
// is anything to reload is logged and dropped. `node --disable-sigusr1` (Node >= 22.14, the image passes it)
// closes the gap before this module runs, but it blocks SIGUSR1 outright, so the image's init rewrites SIGUSR1
// to SIGHUP (see the Dockerfile).
import { ConfigError } from '../core/config/errors.js';
import type { Logger } from '../core/log.js';

export const RELOAD_SIGNALS = ['SIGUSR1', 'SIGHUP'] as const;
export type ReloadSignal = (typeof RELOAD_SIGNALS)[number];

/** What a reload signal does once the CLI has something to reload. */
export type OnReload = (signal: ReloadSignal) => Promise<void>;

let onReload: OnReload | undefined;
let logger: Logger | undefined;
// Reloads run one after the other: two signals in a row must not build two configs at once.
let queue: Promise<void> = Promise.resolve();

function handle(signal: ReloadSignal): void {
  const target = onReload;
  if (!target) {
    process.stderr.write(`nodens: ${signal}: nothing to reload yet\n`);
    return;
  }
  queue = queue.then(() => target(signal)).catch((err: unknown) => {
    const text = err instanceof ConfigError ? err.pretty() : (err as Error).message;
    (logger ?? { error: (m: string) => process.stderr.write(`${m}\n`) }).error(`${signal}: reload failed, the running config keeps serving: ${text}`);
  });
}

for (const signal of RELOAD_SIGNALS) process.on(signal, () => handle(signal));

/** From now on a reload signal calls `reload` (which logs what it did); its failure is logged here. */
export function onReloadSignal(reload: OnReload, log: Logger): void {
  onReload = reload;
  logger = log;
}
