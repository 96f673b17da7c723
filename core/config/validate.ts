// Validates a plugin's options against its JSON schema (ajv, with defaults filled in), turning the
// first error into a ConfigError that names the property path and points where the caller says.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { AnyPlugin } from '../plugin.js';
import { DURATION_PATTERN } from './args.js';
import { ConfigError, type ConfigErrorCode, didYouMean } from './errors.js';
import type { Position } from './types.js';

// verbose: errors carry their parent schema, for "did you mean" over the known properties.
const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false, verbose: true });
const compiled = new WeakMap<AnyPlugin, ValidateFunction>();

/** A path into the options (`['success', 'ttl']`), and whether the error is about a key rather than a value. */
export type Locate = (path: readonly (string | number)[], atKey: boolean) => Position;

/** Validates (and fills defaults into) `options`; throws a ConfigError located by `locate`. */
export function validateOptions(plugin: AnyPlugin, options: unknown, locate: Locate): void {
  let validate = compiled.get(plugin);
  if (!validate) {
    try {
      validate = ajv.compile(plugin.schema);
    } catch (err) {
      throw new Error(`plugin ${plugin.name}: invalid options schema: ${(err as Error).message}`, { cause: err });
    }
    compiled.set(plugin, validate);
  }
  if (validate(options)) return;
  const { path, atKey, detail, code } = describe(validate.errors![0]!);
  throw new ConfigError(locate(path, atKey), plugin.name, detail, code);
}

interface Described {
  path: (string | number)[];
  atKey: boolean;
  detail: string;
  code: ConfigErrorCode;
}

function describe(e: ErrorObject): Described {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String(params.additionalProperty);
      const known = Object.keys((e.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const guess = didYouMean(prop, known);
      const where = path.length ? ` in ${pathText(path)}` : '';
      return { path: [...path, prop], atKey: true, detail: `unknown property '${prop}'${where}${guess ? ` (did you mean '${guess}'?)` : ''}`, code: 'ERR_UNKNOWN_PROPERTY' };
    }
    case 'required': {
      const where = path.length ? ` in ${pathText(path)}` : '';
      return { path, atKey: false, detail: `missing property '${String(params.missingProperty)}'${where}`, code: 'ERR_SCHEMA' };
    }
    case 'enum': {
      const values = params.allowedValues as unknown[];
      const allowed = values.map((v) => JSON.stringify(v)).join(', ');
      const guess = typeof e.data === 'string' ? didYouMean(e.data, values.filter((v): v is string => typeof v === 'string')) : undefined;
      return { path, atKey: false, detail: `${pathText(path)}${valueText(e.data)} must be one of ${allowed}${guess ? ` (did you mean '${guess}'?)` : ''}`, code: 'ERR_SCHEMA' };
    }
    case 'type': {
      const want = TYPE_WORDS[String(params.type)] ?? String(params.type);
      return { path, atKey: false, detail: `${pathText(path)}${valueText(e.data)} must be ${want}`, code: 'ERR_SCHEMA' };
    }
    case 'pattern': {
      // A regex is no help to the reader: say what the pattern stands for.
      const pattern = String(params.pattern);
      const words = PATTERN_WORDS[pattern] ?? (e.parentSchema?.description as string | undefined) ?? 'is not in the expected format';
      return { path, atKey: false, detail: `${pathText(path)}${valueText(e.data)} ${words}`, code: 'ERR_SCHEMA' };
    }
    default:
      return { path, atKey: false, detail: `${pathText(path)} ${e.message ?? 'is invalid'}`, code: 'ERR_SCHEMA' };
  }
}

/** Patterns that plugins share, in words. Others: the schema's `description`, else a general phrase. */
const PATTERN_WORDS: Readonly<Record<string, string>> = {
  [DURATION_PATTERN]: 'is not a duration (like 500ms, 5s, 1m30s)',
};

const TYPE_WORDS: Readonly<Record<string, string>> = {
  integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false',
  array: 'a list', object: 'a map of properties', null: 'empty',
};

function valueText(data: unknown): string {
  return typeof data === 'string' ? ` '${data}'` : '';
}

/** `success.ttl`, `servers[0]`; the root is "options". */
export function pathText(path: readonly (string | number)[]): string {
  if (path.length === 0) return 'options';
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
