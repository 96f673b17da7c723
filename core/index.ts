// The public API of nodens: what plugin authors and embedders import from 'nodens'.
export { definePlugin, DnsError, DropQuery, isDnsError, SLOW_PATH } from './plugin.js';
export type {
  AnyPlugin, CheckContext, Done, ExtendedError, FastPath, Handler, JsonSchema, LocalPeer, Metadata, Next, Peer, PluginDefinition, PluginInstance, Request, RequestChanges, ServerControl, SetupEnv, TlsProvider, Transport,
} from './plugin.js';
export { deriveRequest } from './request.js';
export { isMetadataLabel } from './metadata.js';
export {
  EdeCode, EdnsCode, ednsOption, extendedErrorOption, extendedErrors, replyEdnsOptions, withEdnsOption, withExtendedError,
} from './edns.js';
export {
  Rcode, WireAnswer, WireReply, classCode, className, decodeMessage, fqdn, isWireReply, makeErrorReply, makeQuery, makeReply, messageOf, rcodeName, recordType, trimDot, typeCode, typeName,
} from './message.js';
export type {
  AAAARecord, ARecord, AnswerLayout, Edns, EdnsOption, WireLayout, WireRecords, HINFORecord, MXRecord, Message, NameRecord, OpaqueRecord, Question, Reply, ResourceRecord, SOAData, SOARecord, SRVRecord, TXTRecord,
} from './message.js';
export { encodeMessage, scanMessage, wireAnswer } from './wire.js';
export { asConfigError, ConfigError, ConfigErrors, didYouMean, errorAt } from './config/errors.js';
export type { ConfigErrorCode, ConfigWarning, ConfigWarningCode } from './config/errors.js';
export type { Config, Directive, ParseContext, Position, ServerBlockConfig, ServerKey, Token } from './config/types.js';
export {
  DURATION_PATTERN, durationArg, expectArgs, expectNoBlock, fallthroughArg, intArg, oneOf, parseDuration, unknownProperty, zonesArg, zonesOption,
} from './config/args.js';
export { fallsThrough, isInZone, matchZone, normalizeZone, stripZone, type Fallthrough } from './zones.js';
export { canonicalIP, cidrToReverseZones, ipFromReverseName, reverseName } from './ip.js';
export { createLogger, RateLimitedLog, type Logger, type LogValue } from './log.js';
export type { Metrics } from './metrics.js';
export { Registry, EXECUTION_ORDER } from './registry.js';
export { createRegistry, createServer, importPlugin, readConfig, type CreateServerOptions } from './create.js';
export { DnsServer, type ServerOptions } from './server.js';
export { loadConfigFile, loadConfigText, type LoadOptions } from './config/load.js';
export { VERSION } from './version.js';
