// The config model shared by the Corefile parser, the YAML loader and every plugin's parse().

export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One word of the Corefile, with where it stands. */
export interface Token {
  readonly text: string;
  readonly pos: Position;
  readonly quoted?: boolean;
}

/**
 * A directive (`hosts /etc/hosts example.org { ... }`) or a property inside a directive's block
 * (`ttl 30`, `10.0.0.1 example.org`): its first word, the rest of its line, and its own block if any.
 */
export interface Directive {
  readonly name: Token;
  readonly args: readonly Token[];
  readonly block?: readonly Directive[];
}

/** One key of a server block: `dns://example.org:1053`. Zones are lower-case without the trailing dot ('' is the root). */
export interface ServerKey {
  readonly scheme: 'dns';
  readonly zone: string;
  /** Undefined: the default port (53, or -dns.port). */
  readonly port?: number;
  readonly pos: Position;
}

/** A plugin entry after its options are parsed (Corefile) or read (YAML), and validated. */
export interface PluginEntry {
  readonly name: string;
  readonly options: unknown;
  readonly pos: Position;
}

export interface ServerBlockConfig {
  readonly keys: readonly ServerKey[];
  /** Addresses to listen on, from the `bind` directive; empty: all addresses ('::' and '0.0.0.0'). */
  readonly bind: readonly string[];
  readonly plugins: readonly PluginEntry[];
  readonly pos: Position;
}

export interface Config {
  /** The file it was read from (or '<string>'), for messages and for the reload plugin's checksum. */
  readonly file: string;
  /** Every file read (the config and its imports), so reload can notice a change in any of them. */
  readonly files: readonly string[];
  readonly servers: readonly ServerBlockConfig[];
  /** Worker processes (YAML `workers:`; the CLI's --workers wins): 0 one per core, undefined one process. */
  readonly workers?: number;
  /** What the loader warned about (already told to LoadOptions.onWarning). */
  readonly warnings?: readonly { readonly code: string; readonly message: string }[];
}

/** What a plugin's parse() is told about where it stands. */
export interface ParseContext {
  /** The zones of the server block, normalised. */
  readonly zones: readonly string[];
  /** The folder of the config file, for relative paths. */
  readonly configDir: string;
}
