// Adapted from CoreDNS plugin/acl/acl_test.go (TestACLServeDNS) and setup_test.go (TestSetup, TestNormalize),
// plus the drop, the metrics and several acl directives through a real server.
import { expect } from 'chai';
import { ConfigError, createLogger, createRegistry, DnsServer, DropQuery, EdeCode, extendedErrors, loadConfigText, replyEdnsOptions, makeReply, messageOf, Rcode, type Reply } from 'nodens';
import { configErrorOf, makeRequest, queryServer, rawExchange, rr, startServer, stubNext } from 'nodens/testing';
import { Acl, type AclEvents, type Rule } from './acl.js';
import { compilePolicy } from './policy.js';
import type { AclOptions } from './setup.js';

/** The options of every acl directive in a block keyed by `zones` (the root when none). */
function loadAcl(config: string, zones: readonly string[] = []): { rules: Rule[] } {
  const keys = zones.length > 0 ? zones.join(' ') : '.';
  const block = loadConfigText(`${keys} {\n${config}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} }).servers[0]!;
  const blockZones = zones.length > 0 ? [...zones] : [''];
  return {
    rules: block.plugins.map((p) => {
      const o = p.options as AclOptions;
      return { zones: o.zones ?? blockZones, policies: o.policies.map(compilePolicy) };
    }),
  };
}

const quiet: AclEvents = { blocked() {}, filtered() {}, dropped() {}, allowed() {}, badSource() {} };

type Want = 'REFUSED' | 'NOERROR' | 'FILTERED' | 'DROPPED';

/** CoreDNS's rows: ALLOWED rows reach the next plugin (NOERROR from the stub). */
const rows: { name: string; config: string; zones?: string[]; domain: string; source: string; qtype: string; want: Want }[] = [
  // IPv4 tests.
  { name: 'Blacklist 1 BLOCKED', config: 'acl example.org {\n block type A net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.0.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Blacklist 1 ALLOWED', config: 'acl example.org {\n block type A net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.167.0.2', qtype: 'A', want: 'NOERROR' },
  { name: 'Blacklist 2 BLOCKED', config: 'acl example.org {\n block type * net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.0.2', qtype: 'AAAA', want: 'REFUSED' },
  { name: 'Blacklist 3 BLOCKED', config: 'acl example.org {\n block type A\n}', domain: 'www.example.org', source: '10.1.0.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Blacklist 3 ALLOWED', config: 'acl example.org {\n block type A\n}', domain: 'www.example.org', source: '10.1.0.2', qtype: 'AAAA', want: 'NOERROR' },
  { name: 'Blacklist 4 Single IP BLOCKED', config: 'acl example.org {\n block type A net 192.168.1.2\n}', domain: 'www.example.org', source: '192.168.1.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Blacklist 4 Single IP ALLOWED', config: 'acl example.org {\n block type A net 192.168.1.2\n}', domain: 'www.example.org', source: '192.168.1.3', qtype: 'A', want: 'NOERROR' },
  { name: 'Filter 1 FILTERED', config: 'acl example.org {\n filter type A net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.0.2', qtype: 'A', want: 'FILTERED' },
  { name: 'Filter 1 ALLOWED', config: 'acl example.org {\n filter type A net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.167.0.2', qtype: 'A', want: 'NOERROR' },
  { name: 'Whitelist 1 ALLOWED', config: 'acl example.org {\n allow net 192.168.0.0/16\n block\n}', domain: 'www.example.org', source: '192.168.0.2', qtype: 'A', want: 'NOERROR' },
  { name: 'Whitelist 1 REFUSED', config: 'acl example.org {\n allow type * net 192.168.0.0/16\n block\n}', domain: 'www.example.org', source: '10.1.0.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Drop 1 DROPPED', config: 'acl example.org {\n drop net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.0.2', qtype: 'A', want: 'DROPPED' },
  { name: 'Subnet-Order 1 REFUSED', config: 'acl example.org {\n block net 192.168.1.0/24\n drop net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.1.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Subnet-Order 2 DROPPED', config: 'acl example.org {\n drop net 192.168.0.0/16\n block net 192.168.1.0/24\n}', domain: 'www.example.org', source: '192.168.1.1', qtype: 'A', want: 'DROPPED' },
  { name: 'Drop-Type 1 DROPPED', config: 'acl example.org {\n drop type A\n allow net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.1.1', qtype: 'A', want: 'DROPPED' },
  { name: 'Drop-Type 2 ALLOWED', config: 'acl example.org {\n drop type A\n allow net 192.168.0.0/16\n}', domain: 'www.example.org', source: '192.168.1.1', qtype: 'AAAA', want: 'NOERROR' },
  { name: 'Fine-Grained 1 REFUSED', config: 'acl a.example.org {\n block type * net 192.168.1.0/24\n}', zones: ['example.org'], domain: 'a.example.org', source: '192.168.1.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Fine-Grained 1 ALLOWED', config: 'acl a.example.org {\n block net 192.168.1.0/24\n}', zones: ['example.org'], domain: 'www.example.org', source: '192.168.1.2', qtype: 'A', want: 'NOERROR' },
  { name: 'Fine-Grained 2 REFUSED', config: 'acl example.org {\n block net 192.168.1.0/24\n}', zones: ['example.org'], domain: 'a.example.org', source: '192.168.1.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Fine-Grained 2 ALLOWED', config: 'acl {\n block net 192.168.1.0/24\n}', zones: ['example.org'], domain: 'a.example.com', source: '192.168.1.2', qtype: 'A', want: 'NOERROR' },
  { name: 'Fine-Grained 3 REFUSED', config: 'acl a.example.org {\n block net 192.168.1.0/24\n}\nacl b.example.org {\n block type * net 192.168.2.0/24\n}', zones: ['example.org'], domain: 'b.example.org', source: '192.168.2.2', qtype: 'A', want: 'REFUSED' },
  { name: 'Fine-Grained 3 ALLOWED', config: 'acl a.example.org {\n block net 192.168.1.0/24\n}\nacl b.example.org {\n block net 192.168.2.0/24\n}', zones: ['example.org'], domain: 'b.example.org', source: '192.168.1.2', qtype: 'A', want: 'NOERROR' },
  // IPv6 tests.
  { name: 'Blacklist 1 BLOCKED IPv6', config: 'acl example.org {\n block type A net 2001:db8:abcd:0012::0/64\n}', domain: 'www.example.org', source: '2001:db8:abcd:0012::1230', qtype: 'A', want: 'REFUSED' },
  { name: 'Blacklist 1 ALLOWED IPv6', config: 'acl example.org {\n block type A net 2001:db8:abcd:0012::0/64\n}', domain: 'www.example.org', source: '2001:db8:abcd:0013::0', qtype: 'A', want: 'NOERROR' },
  { name: 'Blacklist 2 BLOCKED IPv6', config: 'acl example.org {\n block type A\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', qtype: 'A', want: 'REFUSED' },
  { name: 'Blacklist 3 Single IP BLOCKED IPv6', config: 'acl example.org {\n block type A net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', qtype: 'A', want: 'REFUSED' },
  { name: 'Blacklist 3 Single IP ALLOWED IPv6', config: 'acl example.org {\n block type A net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7335', qtype: 'A', want: 'NOERROR' },
  { name: 'Fine-Grained 1 REFUSED IPv6', config: 'acl a.example.org {\n block type * net 2001:db8:abcd:0012::0/64\n}', zones: ['example.org'], domain: 'a.example.org', source: '2001:db8:abcd:0012:2019::0', qtype: 'A', want: 'REFUSED' },
  { name: 'Fine-Grained 1 ALLOWED IPv6', config: 'acl a.example.org {\n block net 2001:db8:abcd:0012::0/64\n}', zones: ['example.org'], domain: 'www.example.org', source: '2001:db8:abcd:0012:2019::0', qtype: 'A', want: 'NOERROR' },
  { name: 'Blacklist Address%ifname', config: 'acl example.org {\n block type AAAA net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7334%eth0', qtype: 'AAAA', want: 'REFUSED' },
  { name: 'Drop 1 DROPPED IPV6', config: 'acl example.org {\n drop net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', qtype: 'AAAA', want: 'DROPPED' },
  { name: 'Subnet-Order 1 REFUSED IPv6', config: 'acl example.org {\n block net 2001:db8:abcd:0012:8000::/66\n drop net 2001:db8:abcd:0012::0/64\n}', domain: 'www.example.org', source: '2001:db8:abcd:0012:8000::1', qtype: 'AAAA', want: 'REFUSED' },
  { name: 'Subnet-Order 2 DROPPED IPv6', config: 'acl example.org {\n drop net 2001:db8:abcd:0012::0/64\n block net 2001:db8:abcd:0012:8000::/66\n}', domain: 'www.example.org', source: '2001:db8:abcd:0012:8000::1', qtype: 'AAAA', want: 'DROPPED' },
  { name: 'Drop-Type 1 DROPPED IPv6', config: 'acl example.org {\n drop type A\n allow net 2001:db8:85a3:0000::0/64\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', qtype: 'A', want: 'DROPPED' },
  { name: 'Drop-Type 2 ALLOWED IPv6', config: 'acl example.org {\n drop type A\n allow net 2001:db8:85a3:0000::0/64\n}', domain: 'www.example.org', source: '2001:0db8:85a3:0000:0000:8a2e:0370:7334', qtype: 'AAAA', want: 'NOERROR' },
  // Beyond CoreDNS's table.
  { name: 'an IPv4-mapped client on a dual-stack socket matches an IPv4 net', config: 'acl {\n block net 127.0.0.0/8\n}', domain: 'example.org', source: '::ffff:127.0.0.1', qtype: 'A', want: 'REFUSED' },
  { name: 'a type that the server writes TYPEn (LOC)', config: 'acl {\n block type LOC\n}', domain: 'example.org', source: '10.0.0.1', qtype: 'TYPE29', want: 'REFUSED' },
  { name: 'net * matches IPv6 too', config: 'acl {\n block net *\n}', domain: 'example.org', source: '2001:db8::1', qtype: 'A', want: 'REFUSED' },
  { name: 'an unparsable source is blocked', config: 'acl {\n allow\n}', domain: 'example.org', source: 'not-an-ip', qtype: 'A', want: 'REFUSED' },
];

describe('acl: handler (CoreDNS TestACLServeDNS)', () => {
  for (const c of rows) {
    it(c.name, async () => {
      const { rules } = loadAcl(c.config, c.zones);
      const acl = new Acl(rules, quiet);
      const req = makeRequest(c.domain, c.qtype, { clientAddress: c.source });
      const next = stubNext(req, (r) => makeReply(r.query, { answer: [rr`${r.qname}. 5 IN A 192.0.2.1`] }));
      let reply: Reply | undefined;
      try {
        reply = await acl.serve(req, next);
      } catch (err) {
        expect(err).to.be.instanceOf(DropQuery);
        expect(c.want).to.equal('DROPPED');
        expect(next.calls).to.equal(0);
        return;
      }
      expect(c.want, 'answered').to.not.equal('DROPPED');
      const m = messageOf(reply);
      const got: Want = next.calls === 1 ? 'NOERROR' : m.rcode === Rcode.REFUSED ? 'REFUSED' : m.rcode === Rcode.NOERROR && m.answer.length === 0 ? 'FILTERED' : 'NOERROR';
      expect(got).to.equal(c.want);
      // CoreDNS's wantExtendedErrorCode: Blocked on REFUSED, Filtered on FILTERED, none when allowed.
      const ede = extendedErrors(replyEdnsOptions(reply)).map((e) => e.infoCode);
      expect(ede).to.deep.equal(got === 'REFUSED' ? [EdeCode.Blocked] : got === 'FILTERED' ? [EdeCode.Filtered] : []);
    });
  }
});


describe('acl: several directives act as one list of rules', () => {
  const events = () => {
    const seen: string[] = [];
    const e: AclEvents = {
      blocked: (_r, zone) => seen.push(`blocked ${zone}`), filtered: (_r, zone) => seen.push(`filtered ${zone}`),
      dropped: (_r, zone) => seen.push(`dropped ${zone}`), allowed: () => seen.push('allowed'), badSource: () => seen.push('bad source'),
    };
    return { seen, e };
  };

  it('an allow ends the checks of later directives (CoreDNS breaks out of all its rules)', async () => {
    const { rules } = loadAcl('acl {\n allow net 10.0.0.0/8\n}\nacl {\n block\n}');
    const { seen, e } = events();
    const allowed = new WeakSet<import('nodens').Request>();
    const first = new Acl([rules[0]!], e, () => ({ allowed, last: false }));
    const second = new Acl([rules[1]!], e, () => ({ allowed, last: true }));
    const req = makeRequest('example.org', 'A', { clientAddress: '10.1.2.3' });
    const reply = messageOf(await first.serve(req, () => second.serve(req, stubNext(req))));
    expect(reply.rcode).to.equal(Rcode.NXDOMAIN); // the stub's answer: nothing blocked
    expect(seen).to.deep.equal(['allowed']);
    const other = makeRequest('example.org', 'A', { clientAddress: '192.0.2.1' });
    expect(messageOf(await first.serve(other, () => second.serve(other, stubNext(other)))).rcode).to.equal(Rcode.REFUSED);
    expect(seen).to.deep.equal(['allowed', 'blocked .']);
  });

  it('a query no rule matched is counted as allowed once, by the last directive', async () => {
    const { rules } = loadAcl('acl a.example.org {\n block\n}\nacl b.example.org {\n block\n}', ['example.org']);
    const { seen, e } = events();
    const allowed = new WeakSet<import('nodens').Request>();
    const first = new Acl([rules[0]!], e, () => ({ allowed, last: false }));
    const second = new Acl([rules[1]!], e, () => ({ allowed, last: true }));
    const req = makeRequest('c.example.org', 'A');
    await first.serve(req, () => second.serve(req, stubNext(req)));
    expect(seen).to.deep.equal(['allowed']);
  });

  it('one Acl with both rules gives the same answers (CoreDNS keeps one handler)', async () => {
    const { rules } = loadAcl('acl a.example.org {\n block net 192.168.1.0/24\n}\nacl b.example.org {\n block type * net 192.168.2.0/24\n}', ['example.org']);
    const { seen, e } = events();
    const acl = new Acl(rules, e);
    const req = makeRequest('b.example.org', 'A', { clientAddress: '192.168.2.2' });
    expect(messageOf(await acl.serve(req, stubNext(req))).rcode).to.equal(Rcode.REFUSED);
    expect(seen).to.deep.equal(['blocked b.example.org.']);
  });
});

describe('acl: setup (CoreDNS TestSetup)', () => {
  const good: { name: string; config: string }[] = [
    { name: 'Blacklist 1', config: 'acl {\n block type A net 192.168.0.0/16\n}' },
    { name: 'Blacklist 2', config: 'acl {\n block type * net 192.168.0.0/16\n}' },
    { name: 'Blacklist 3', config: 'acl {\n block type A net *\n}' },
    { name: 'Blacklist 4', config: 'acl {\n allow type * net 192.168.1.0/24\n block type * net 192.168.0.0/16\n}' },
    { name: 'Filter 1', config: 'acl {\n filter type A net 192.168.0.0/16\n}' },
    { name: 'Whitelist 1', config: 'acl {\n allow type * net 192.168.0.0/16\n block type * net *\n}' },
    { name: 'Drop 1', config: 'acl {\n drop type * net 192.168.0.0/16\n}' },
    { name: 'fine-grained 1', config: 'acl a.example.org {\n block type * net 192.168.1.0/24\n}' },
    { name: 'fine-grained 2', config: 'acl a.example.org {\n block type * net 192.168.1.0/24\n}\nacl b.example.org {\n block type * net 192.168.2.0/24\n}' },
    { name: 'Multiple Networks 1', config: 'acl example.org {\n block type * net 192.168.1.0/24 192.168.3.0/24\n}' },
    { name: 'Multiple Qtypes 1', config: 'acl example.org {\n block type TXT ANY CNAME net 192.168.3.0/24\n}' },
    { name: 'Blacklist 1 IPv6', config: 'acl {\n block type A net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}' },
    { name: 'Blacklist 2 IPv6', config: 'acl {\n block type * net 2001:db8:85a3::8a2e:370:7334\n}' },
    { name: 'Blacklist 4 IPv6', config: 'acl {\n allow net 2001:db8:abcd:0012::0/64\n block net 2001:db8:abcd:0012::0/48\n}' },
    { name: 'Filter 1 IPv6', config: 'acl {\n filter type A net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}' },
    { name: 'Whitelist 1 IPv6', config: 'acl {\n allow net 2001:db8:abcd:0012::0/64\n block\n}' },
    { name: 'Multiple Networks 1 IPv6', config: 'acl example.org {\n block net 2001:db8:abcd:0012::0/64 2001:db8:85a3::8a2e:370:7334/64\n}' },
  ];
  for (const c of good) it(`accepts ${c.name}`, () => expect(loadAcl(c.config).rules).to.not.be.empty);

  const bad: { name: string; config: string; col: number; message: RegExp }[] = [
    { name: 'Missing argument 1', config: 'acl {\n block A net 192.168.0.0/16\n}', col: 8, message: /unexpected token "A"; expect 'type \| net'/ },
    { name: 'Missing argument 2', config: 'acl {\n block type net 192.168.0.0/16\n}', col: 8, message: /no token specified in "type" section/ },
    { name: 'Illegal argument 1', config: 'acl {\n block type ABC net 192.168.0.0/16\n}', col: 13, message: /unexpected token "ABC"; expect legal QTYPE/ },
    { name: 'Illegal argument 2', config: 'acl {\n blck type A net 192.168.0.0/16\n}', col: 2, message: /unexpected token "blck"; expect 'allow', 'block', 'filter' or 'drop'/ },
    { name: 'Illegal argument 3', config: 'acl {\n block type A net 192.168.0/16\n}', col: 19, message: /illegal CIDR notation "192.168.0\/16"/ },
    { name: 'Illegal argument 4', config: 'acl {\n block type A net 192.168.0.0/33\n}', col: 19, message: /illegal CIDR notation/ },
    { name: 'Illegal argument 1 IPv6', config: 'acl {\n block type A net 2001::85a3::8a2e:370:7334\n}', col: 19, message: /illegal CIDR notation/ },
    { name: 'Illegal argument 2 IPv6', config: 'acl {\n block type A net 2001:db8:85a3:::8a2e:370:7334\n}', col: 19, message: /illegal CIDR notation/ },
    { name: 'a block under a policy', config: 'acl {\n block {\n  x\n }\n}', col: 3, message: /takes no block/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const err = configErrorOf(() => loadAcl(c.config));
      expect(err.pos?.col).to.equal(c.col);
      expect(err.detail).to.match(c.message);
    });
  }

  it('YAML options go through the same checks at setup, and their zones are normalised', async () => {
    const start = (acl: string) => DnsServer.start({
      config: loadConfigText(`servers:\n  - zones: [example.org]\n    plugins:\n      - acl: ${acl}\n      - hosts: { inline: ["10.0.0.1 a.example.org"] }\n`, 'c.yaml', { registry: createRegistry() }),
      registry: createRegistry(), defaultPort: 0, defaultBind: ['127.0.0.1'], logger: createLogger({ quiet: true }),
    });
    const err = await start('{ policies: [{ action: block, nets: [10.0.0.0/33] }] }').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).message).to.match(/c\.yaml:4:\d+: plugin\/acl: illegal CIDR notation "10.0.0.0\/33"/);
    const server = await start('{ zones: [A.Example.ORG.], policies: [{ action: block, types: [A] }] }');
    try {
      const port = server.addresses()[0]!.port;
      expect((await queryServer('127.0.0.1', port, 'a.example.org', 'A')).rcode).to.equal(Rcode.REFUSED);
    } finally {
      await server.close();
    }
  });
});

describe('acl: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer([
      'example.org {',
      '  log',
      '  prometheus 127.0.0.1:0',
      '  acl {',
      '    drop type MX net 127.0.0.0/8',
      '    filter type TXT',
      '    block type AAAA net 127.0.0.1',
      '  }',
      '  hosts {',
      '    10.0.0.1 example.org',
      '  }',
      '}',
      'example.net {',
      '  acl {',
      '    allow net 127.0.0.1',
      '  }',
      '  acl {',
      '    block',
      '  }',
      '  hosts {',
      '    10.0.0.2 example.net',
      '  }',
      '}',
    ].join('\n'));
  });
  after(() => srv?.close());

  it('dig: block is REFUSED with EDE 15, filter an empty NOERROR with EDE 17, allowed queries reach hosts', async () => {
    const blocked = await srv.dig(['AAAA', 'example.org']);
    expect(blocked).to.match(/status: REFUSED/);
    expect(blocked).to.match(/; EDE: 15 \(Blocked\)/);
    const filtered = await srv.dig(['TXT', 'example.org']);
    expect(filtered).to.match(/status: NOERROR/);
    expect(filtered).to.match(/ANSWER: 0,/);
    expect(filtered).to.match(/; EDE: 17 \(Filtered\)/);
    // A client without EDNS gets no OPT record, so no EDE.
    expect(await srv.dig(['+noedns', 'AAAA', 'example.org'])).to.not.match(/EDE/);
    expect((await srv.dig(['+short', 'A', 'example.org'])).trim()).to.equal('10.0.0.1');
  });

  it('drop sends nothing back, and log shows the query with no rcode', async () => {
    const { encodeMessage, makeQuery } = await import('nodens');
    const answer = await rawExchange('127.0.0.1', srv.port, encodeMessage(makeQuery('example.org', 'MX')), 'udp', 500);
    expect(answer).to.equal(undefined);
    expect(srv.logs.some((l) => /"MX IN example\.org\. udp .*" - /.test(l))).to.equal(true);
  });

  it('an allow in the first acl directive ends the checks: the second one\'s block does not apply', async () => {
    expect((await srv.dig(['+short', 'A', 'example.net'])).trim()).to.equal('10.0.0.2');
  });

  it('counts blocked, filtered, dropped and allowed queries as CoreDNS names them', async () => {
    await srv.query('example.org', 'AAAA');
    const body = (await srv.server.metrics.scrape()).body;
    const server = `dns://:${srv.port}`;
    expect(body).to.match(new RegExp(`coredns_acl_blocked_requests_total\\{server="${server}",zone="example.org.",view=""\\} [1-9]`));
    expect(body).to.match(new RegExp(`coredns_acl_filtered_requests_total\\{server="${server}",zone="example.org.",view=""\\} [1-9]`));
    expect(body).to.match(new RegExp(`coredns_acl_dropped_requests_total\\{server="${server}",zone="example.org.",view=""\\} [1-9]`));
    expect(body).to.match(new RegExp(`coredns_acl_allowed_requests_total\\{server="${server}",view=""\\} [1-9]`));
  });
});
