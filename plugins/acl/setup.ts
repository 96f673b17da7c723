// acl: Corefile parsing (`acl [ZONES...] { ACTION [type QTYPE...] [net SOURCE...] }`), the options
// schema, and setup (metrics, and the group of a block's acl directives).
import {
  errorAt, expectNoBlock, normalizeZone, zonesArg, type Directive, type Handler, type JsonSchema, type ParseContext, type Request, type SetupEnv, type Token,
} from 'nodens';
import { Acl, type AclEvents, type AclGroup } from './acl.js';
import { parseNet } from './cidr.js';
import { compilePolicy, requestTypeName, type Action, type PolicyOptions } from './policy.js';

const NAME = 'acl';
const ACTIONS: readonly Action[] = ['allow', 'block', 'filter', 'drop'];

export interface AclOptions {
  /** Default: the server block's zones. */
  zones?: string[];
  policies: PolicyOptions[];
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['policies'],
  properties: {
    zones: { type: 'array', items: { type: 'string' } },
    policies: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['action'],
        properties: {
          action: { enum: ACTIONS },
          types: { type: 'array', minItems: 1, items: { type: 'string' } },
          nets: { type: 'array', minItems: 1, items: { type: 'string' } },
        },
      },
    },
  },
};

const isSection = (t: Token) => t.text.toLowerCase() === 'type' || t.text.toLowerCase() === 'net';

/** One `ACTION [type QTYPE...] [net SOURCE...]` line. */
function parsePolicy(line: Directive): PolicyOptions {
  expectNoBlock(line, NAME);
  const action = line.name.text.toLowerCase() as Action;
  if (!ACTIONS.includes(action)) errorAt(line.name, NAME, `unexpected token "${line.name.text}"; expect 'allow', 'block', 'filter' or 'drop'`, 'ERR_BAD_VALUE');
  let types: string[] | undefined;
  let nets: string[] | undefined;
  const args = line.args;
  for (let i = 0; i < args.length; ) {
    const section = args[i]!;
    if (!isSection(section)) errorAt(section, NAME, `unexpected token "${section.text}"; expect 'type | net'`, 'ERR_BAD_VALUE');
    let j = i + 1;
    while (j < args.length && !isSection(args[j]!)) j++;
    const tokens = args.slice(i + 1, j);
    if (tokens.length === 0) errorAt(section, NAME, `no token specified in "${section.text.toLowerCase()}" section`, 'ERR_ARG_COUNT');
    for (const t of tokens) {
      if (section.text.toLowerCase() === 'type') {
        if (t.text !== '*' && requestTypeName(t.text) === undefined) errorAt(t, NAME, `unexpected token "${t.text}"; expect legal QTYPE`, 'ERR_BAD_VALUE');
        (types ??= []).push(t.text);
      } else {
        if (t.text !== '*' && parseNet(t.text) === undefined) errorAt(t, NAME, `illegal CIDR notation "${t.text}"`, 'ERR_BAD_VALUE');
        (nets ??= []).push(t.text);
      }
    }
    i = j;
  }
  return { action, ...(types ? { types } : {}), ...(nets ? { nets } : {}) };
}

export function parse(d: Directive, ctx: ParseContext): AclOptions {
  const zones = zonesArg(d.args, ctx, NAME);
  const policies = (d.block ?? []).map(parsePolicy);
  return d.args.length > 0 ? { zones, policies } : { policies };
}

/** The acl directives of this one's server block, found once every plugin is set up. */
function groupOf(env: SetupEnv, self: Handler): () => AclGroup {
  return () => {
    // A block's instances share its zones array.
    const siblings = env.instances().filter((i) => i.name === NAME && i.zones === env.zones).map((i) => i.handler);
    if (siblings.length < 2) return { allowed: undefined, last: true };
    let allowed = groups.get(siblings[0]!);
    if (!allowed) groups.set(siblings[0]!, (allowed = new WeakSet()));
    return { allowed, last: siblings.at(-1) === self };
  };
}
const groups = new WeakMap<Handler, WeakSet<Request>>();

export function setup(options: AclOptions, env: SetupEnv): Handler {
  const labels = ['server', 'zone', 'view'] as const;
  const blocked = env.metrics.counter('coredns_acl_blocked_requests_total', 'Counter of DNS requests being blocked.', labels);
  const filtered = env.metrics.counter('coredns_acl_filtered_requests_total', 'Counter of DNS requests being filtered.', labels);
  const dropped = env.metrics.counter('coredns_acl_dropped_requests_total', 'Counter of DNS requests being dropped.', labels);
  const allowed = env.metrics.counter('coredns_acl_allowed_requests_total', 'Counter of DNS requests being allowed.', ['server', 'view']);
  const events: AclEvents = {
    blocked: (req, zone) => blocked.inc({ server: req.server, zone, view: '' }),
    filtered: (req, zone) => filtered.inc({ server: req.server, zone, view: '' }),
    dropped: (req, zone) => dropped.inc({ server: req.server, zone, view: '' }),
    allowed: (req) => allowed.inc({ server: req.server, view: '' }),
    badSource: (req) => env.logger.error(`Blocking request. Unable to parse source address: ${req.client.address}`),
  };
  const rules = [{ zones: options.zones?.map(normalizeZone) ?? env.zones, policies: options.policies.map(compilePolicy) }];
  const handler: Handler = {};
  const acl = new Acl(rules, events, groupOf(env, handler));
  handler.serve = (req, next) => acl.serve(req, next);
  return handler;
}
