// loop: `loop` -> the probe counter, and the startup task that sends probes to our own listener.
import { expectArgs, expectNoBlock } from '../../core/config/args.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { joinHostPort, Loop } from './loop.js';
import { exchangeProbe, probeName, probeTarget } from './probe.js';

// The loop plugin has no options.
export type LoopConfig = Record<string, never>;

export const schema: JsonSchema = { type: 'object', additionalProperties: false };

export function parse(d: Directive): LoopConfig {
  expectArgs(d, 'loop', 0);
  expectNoBlock(d, 'loop');
  return {};
}

/** CoreDNS's timings: probe for up to 30 s, 1 s between failed tries, stop counting 2 s after one went through. */
export interface ProbeTimings {
  deadlineMs: number;
  retryMs: number;
  exchangeTimeoutMs: number;
  settleMs: number;
}
export const PROBE_TIMINGS: ProbeTimings = { deadlineMs: 30_000, retryMs: 1000, exchangeTimeoutMs: 2000, settleMs: 2000 };

export function setup(_options: LoopConfig, env: SetupEnv, timings: ProbeTimings = PROBE_TIMINGS): Handler {
  const zone = env.zones[0] ?? '';
  // The listener's port is known once it is bound (port 0 is resolved then): read it late.
  const target = (): { address: string; port: number } => env.listen[0] ?? { address: '127.0.0.1', port: 53 };
  const shown = (): string => {
    const { address, port } = target();
    return joinHostPort(address === '0.0.0.0' || address === '::' ? '' : address, port);
  };
  const loop = new Loop(zone, probeName(zone), shown, (m) => {
    env.logger.error(m);
    env.control.fatal(m);
  });
  const stop = { signal: loop.stopped };
  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const t = setTimeout(r, ms).unref();
      stop.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
    });

  async function probe(): Promise<void> {
    const deadline = Date.now() + timings.deadlineMs;
    while (Date.now() < deadline && !stop.signal.aborted) {
      const { address, port } = target();
      if (await exchangeProbe(loop.qname, probeTarget(address), port, timings.exchangeTimeoutMs, stop.signal)) {
        // Probes of a loop may still be on their way round: keep counting a little longer.
        await sleep(timings.settleMs);
        break;
      }
      loop.reset();
      await sleep(timings.retryMs);
    }
    loop.disable();
  }

  env.onStartup(() => {
    // In the background: startup must not wait for the probe, and the probe needs the server running.
    void probe();
  });
  return loop;
}
