// The public API of nodens: what plugin authors and embedders import from 'nodens'.
export { definePlugin, DnsError } from './plugin.js';
export type {
  AnyPlugin, Done, Handler, JsonSchema, LocalPeer, Next, Peer, PluginDefinition, PluginInstance, Request, ServerControl, SetupEnv, TlsProvider, Transport,
} from './plugin.js';
export {
  Rcode, WireReply, decodeMessage, fqdn, isWireReply, makeErrorReply, makeQuery, makeReply, messageOf, rcodeName, recordType, trimDot, typeCode, typeName,
} from './message.js';
export type {
  AAAARecord, ARecord, Edns, WireLayout, HINFORecord, MXRecord, Message, NameRecord, OpaqueRecord, Question, Reply, ResourceRecord, SOAData, SOARecord, SRVRecord, TXTRecord,
} from './message.js';
export { encodeMessage, scanMessage } from './wire.js';
export { ConfigError, didYouMean, errorAt } from './config/errors.js';
export type { ConfigErrorCode } from './config/errors.js';
export type { Config, Directive, ParseContext, Position, ServerBlockConfig, ServerKey, Token } from './config/types.js';
export {
  DURATION_PATTERN, durationArg, expectArgs, expectNoBlock, fallthroughArg, intArg, oneOf, parseDuration, unknownProperty, zonesArg,
} from './config/args.js';
export { fallsThrough, isInZone, matchZone, normalizeZone, stripZone, type Fallthrough } from './zones.js';
export { canonicalIP, cidrToReverseZones, ipFromReverseName, reverseName } from './ip.js';
export { createLogger, RateLimitedLog, type Logger } from './log.js';
export type { Metrics } from './metrics.js';
export { Registry, EXECUTION_ORDER } from './registry.js';
export { createRegistry, createServer, importPlugin, readConfig, type CreateServerOptions } from './create.js';
export { DnsServer, type ServerOptions } from './server.js';
export { loadConfigFile, loadConfigText, type LoadOptions } from './config/load.js';
export { VERSION } from './version.js';
