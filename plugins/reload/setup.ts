// reload: `reload [INTERVAL] [JITTER]` -> options -> the config poller.
import { DURATION_PATTERN, durationArg, expectArgs, parseDuration } from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive } from '../../core/config/types.js';
import type { CheckContext, Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { Reload } from './reload.js';

export interface ReloadConfig {
  /** Default 30s, at least 2s. */
  interval?: string;
  /** Default 15s, at least 1s; at most half the interval. */
  jitter?: string;
}

const MIN_INTERVAL_MS = 2000;
const MIN_JITTER_MS = 1000;

export const schema: JsonSchema = {
  type: 'object',
  properties: {
    interval: { type: 'string', pattern: DURATION_PATTERN },
    jitter: { type: 'string', pattern: DURATION_PATTERN },
  },
  additionalProperties: false,
};

function checkInterval(ms: number): string | undefined {
  return ms < MIN_INTERVAL_MS ? 'interval value must be greater or equal to 2s' : undefined;
}
function checkJitter(ms: number): string | undefined {
  return ms < MIN_JITTER_MS ? 'jitter value must be greater or equal to 1s' : undefined;
}

export function parse(d: Directive): ReloadConfig {
  const [interval, jitter] = expectArgs(d, 'reload', 0, 2);
  if (d.block && d.block.length > 0) errorAt(d.block[0]!.name, 'reload', 'reload takes no block', 'ERR_SYNTAX');
  const options: ReloadConfig = {};
  if (interval) {
    options.interval = durationArg(interval, 'reload');
    const why = checkInterval(parseDuration(options.interval));
    if (why) errorAt(interval, 'reload', why, 'ERR_BAD_VALUE');
  }
  if (jitter) {
    options.jitter = durationArg(jitter, 'reload');
    const why = checkJitter(parseDuration(options.jitter));
    if (why) errorAt(jitter, 'reload', why, 'ERR_BAD_VALUE');
  }
  return options;
}

/** The polling period: INTERVAL plus a random offset in [-JITTER/2, JITTER/2), JITTER capped at INTERVAL/2. */
export function period(intervalMs: number, jitterMs: number, random = Math.random): number {
  const j = Math.min(jitterMs, intervalMs / 2);
  return Math.round(intervalMs + random() * j - j / 2);
}

/** The limits parse() applies, for YAML options too. */
export function check(options: ReloadConfig, ctx: CheckContext): void {
  const why = checkInterval(parseDuration(options.interval ?? '30s'));
  if (why) errorAt(ctx.at(['interval']), 'reload', why, 'ERR_BAD_VALUE');
  const jitterWhy = checkJitter(parseDuration(options.jitter ?? '15s'));
  if (jitterWhy) errorAt(ctx.at(['jitter']), 'reload', jitterWhy, 'ERR_BAD_VALUE');
}

export function setup(options: ReloadConfig, env: SetupEnv): Handler {
  const intervalMs = parseDuration(options.interval ?? '30s');
  const jitterMs = parseDuration(options.jitter ?? '15s');
  // check() refuses these at load; setup() is also called directly (embedders, tests), so it refuses them too.
  const why = checkInterval(intervalMs) ?? checkJitter(jitterMs);
  if (why) throw new Error(why);
  const files = env.configFiles.length > 0 ? env.configFiles : [env.configFile];
  const reload = new Reload(files, period(intervalMs, jitterMs), env.control, env.logger, env.metrics);
  env.onStartup(() => reload.start());
  return reload;
}
