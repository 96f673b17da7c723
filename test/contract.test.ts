// The plugin contract, second edition, over real sockets and dig: derived requests (a suffix rewrite
// in front of hosts), EDNS options both ways (ECS seen on the fast path, NSID in the reply), metadata
// in log lines, and the Extended DNS Errors of the built-ins. The test plugins use only the public API.
import { expect } from 'chai';
import dgram from 'node:dgram';
import {
  definePlugin, EdeCode, EdnsCode, ednsOption, expectArgs, fqdn, makeReply, messageOf, Rcode, trimDot, withEdnsOption,
  type Handler, type Reply, type ResourceRecord,
} from 'nodens';
import { freePort, startServer, type TestServer } from 'nodens/testing';
import { startDnsmasq, type Dnsmasq } from './fixtures/dnsmasq.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { namespace, pod, service, http80 } from './fixtures/k8s-objects.js';

/** `suffix FROM TO` (a tiny rewrite): asks the rest of the chain for the name with suffix TO, answers under the client's name. */
const suffix = definePlugin<{ from: string; to: string; raw: boolean }>({
  name: 'suffix_test',
  schema: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, raw: { type: 'boolean' } }, required: ['from', 'to'] },
  parse: (d) => {
    const [from, to, raw] = d.args;
    return { from: trimDot(from!.text.toLowerCase()), to: trimDot(to!.text.toLowerCase()), raw: raw?.text === 'raw' };
  },
  setup: ({ from, to, raw }) => ({
    serve: async (req, next) => {
      if (req.qname !== from && !req.qname.endsWith(`.${from}`)) return next();
      const asked = req.qname.slice(0, req.qname.length - from.length) + to;
      // `raw`: the reply as the rest of the chain gave it (an upstream's bytes, for the other question).
      if (raw) return next({ name: asked });
      const reply = messageOf(await next({ name: asked }));
      const back = (name: string): string => (name.toLowerCase() === asked ? req.qname : name);
      return { ...reply, answer: reply.answer.map((rr): ResourceRecord => ({ ...rr, name: back(rr.name) })) };
    },
  }),
  after: 'cache',
});

/** `options_test`: answers TXT with the codes of the EDNS options it sees, and echoes an ECS option back. */
const options = definePlugin<Record<string, never>>({
  name: 'options_test',
  schema: { type: 'object' },
  parse: () => ({}),
  setup: () => ({
    serve: (req) => {
      const text = req.ednsOptions.map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`).join(' ') || 'none';
      const reply: Reply = makeReply(req.query, { answer: [{ name: req.qname, ttl: 0, type: 'TXT', data: [text] }] });
      const ecs = ednsOption(req, EdnsCode.ClientSubnet);
      return ecs ? withEdnsOption(reply, ecs) : reply;
    },
  }),
});

/** `nsid_test ID`: a minimal NSID (RFC 5001), answering clients that ask for it (not the nsid built-in). */
const nsid = definePlugin<{ id: string }>({
  name: 'nsid_test',
  schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
  parse: (d) => ({ id: expectArgs(d, 'nsid_test', 1)[0]!.text }),
  setup: ({ id }) => ({
    serve: async (req, next) => {
      const reply = await next();
      return ednsOption(req, EdnsCode.NSID) ? withEdnsOption(reply, { code: EdnsCode.NSID, data: Buffer.from(id) }) : reply;
    },
  }),
  before: 'log',
});

/** `metadata_test`: what CoreDNS's metadata plugin does: every provider publishes before the chain runs. */
const metadata = definePlugin<Record<string, never>>({
  name: 'metadata_test',
  schema: { type: 'object' },
  parse: () => ({}),
  setup: (_o, env) => {
    let providers: Handler[] | undefined;
    return {
      serve: (req, next) => {
        providers ??= env.instances().map((i) => i.handler).filter((h) => h.metadata !== undefined);
        for (const p of providers) p.metadata!(req);
        req.metadata.set('test/asked', () => fqdn(req.qname));
        return next();
      },
    };
  },
  before: 'log',
});

/** A DnsError as another copy of nodens defines it: the same shape, another class. */
class ForeignDnsError extends Error {
  override name = 'DnsError';
  readonly rcode = Rcode.REFUSED;
  readonly extendedError = { infoCode: EdeCode.Prohibited, extraText: 'not from here' };
}

/** `foreign_test`: throws a DnsError from another copy of nodens. */
const foreign = definePlugin<Record<string, never>>({
  name: 'foreign_test',
  schema: { type: 'object' },
  parse: () => ({}),
  setup: () => ({ serve: () => { throw new ForeignDnsError('refused by a plugin with its own nodens'); } }),
});

const plugins = [suffix, options, nsid, metadata, foreign];

/** dig's OPT pseudosection lines (`; EDE: 3 (Stale Answer)`, `; NSID: ...`). */
function optLines(out: string): string[] {
  const at = out.indexOf('OPT PSEUDOSECTION');
  if (at < 0) return [];
  return out.slice(at).split('\n').slice(1).filter((l) => l.startsWith('; ') && !l.startsWith('; EDNS')).map((l) => l.slice(2).trim()).filter((l) => l !== '' && !l.startsWith('QUESTION'));
}

describe('contract: derived requests (a suffix rewrite in front of hosts)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(`old.test {\n  metadata_test\n  log . "{name} {type} {rcode} asked={/test/asked}"\n  suffix_test old.test new.test\n  hosts /dev/null new.test {\n    10.0.0.7 web.new.test\n    no_reverse\n  }\n}\n`, { plugins });
  });
  after(() => s?.close());

  it('answers web.old.test with the record of web.new.test, under the client\'s name and question', async () => {
    const out = await s.dig(['Web.Old.Test', 'A', '+noall', '+answer', '+question']);
    expect(out).to.match(/^;Web\.Old\.Test\.\s+IN\s+A$/m);
    expect(out).to.match(/^Web\.Old\.Test\.\s+\d+\s+IN\s+A\s+10\.0\.0\.7$/m);
  });

  it('log shows the name the client asked, and metadata a plugin published', async () => {
    await s.dig(['WEB.old.test', 'AAAA']);
    const lines = s.logs.filter((l) => l.includes(' AAAA '));
    expect(lines).to.deep.equal(['[INFO] web.old.test. AAAA NOERROR asked=web.old.test.']);
  });

  it('over TCP, a derived request keeps the client\'s transport', async () => {
    const m = await s.query('web.old.test', 'A', { transport: 'tcp' });
    expect(m.question[0]!.name).to.equal('web.old.test');
    expect(m.answer[0]).to.include({ name: 'web.old.test', data: '10.0.0.7' });
  });
});

describe('contract: a derived request forwarded upstream (dnsmasq)', function () {
  this.timeout(20_000);
  it('the upstream answers the derived question; the client gets its own question and name back', async () => {
    const up: Dnsmasq = await startDnsmasq({ args: ['--address=/example.test/10.1.2.3'], probe: 'up.example.test' });
    const s = await startServer(`old.test {\n  suffix_test old.test example.test\n  forward . 127.0.0.1:${up.port}\n}\n`, { plugins });
    try {
      for (const transport of ['udp', 'tcp'] as const) {
        const m = await s.query('Web.Old.Test', 'A', { transport });
        expect(m.question).to.deep.equal([{ name: 'Web.Old.Test', type: 'A', class: 'IN' }]);
        expect(m.answer.map((a) => `${a.name.toLowerCase()} ${a.type} ${String(a.data)}`)).to.deep.equal(['web.old.test A 10.1.2.3']);
      }
      // Unmapped upstream bytes: the answer keeps the upstream's name, the question is still the client's.
      const raw = await startServer(`old.test {\n  suffix_test old.test example.test raw\n  forward . 127.0.0.1:${up.port}\n}\n`, { plugins });
      try {
        const out = await raw.dig(['+noall', '+question', '+answer', 'Web.Old.Test', 'A']);
        expect(out).to.match(/^;Web\.Old\.Test\.\s+IN\s+A$/m);
        expect(out).to.match(/^web\.example\.test\.\s+\d+\s+IN\s+A\s+10\.1\.2\.3$/im); // compression may borrow the question's case
      } finally {
        await raw.close();
      }
    } finally {
      await s.close();
      await up.stop();
    }
  });
});

describe('contract: EDNS options, both ways (dig)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('opts.test {\n  nsid_test node-7\n  options_test\n}\n', { plugins });
  });
  after(() => s?.close());

  it('a +subnet query shows its ECS option to the plugin on the fast path, and the echo to dig', async () => {
    const out = await s.dig(['+nocookie', '+subnet=192.0.2.0/24', 'x.opts.test', 'TXT']);
    // family 1, source /24, scope /0, 192.0.2
    expect(out).to.include('"8:00011800c00002"');
    expect(optLines(out)).to.deep.equal(['CLIENT-SUBNET: 192.0.2.0/24/0']);
  });

  it('a query without options: the plugin sees none', async () => {
    expect(await s.dig(['+short', '+nocookie', 'x.opts.test', 'TXT'])).to.equal('"none"\n');
  });

  it('dig +nsid shows our NSID; without +nsid there is none', async () => {
    expect(optLines(await s.dig(['+nsid', 'x.opts.test', 'TXT']))).to.deep.equal(['NSID: 6e 6f 64 65 2d 37 ("node-7")']);
    expect(optLines(await s.dig(['x.opts.test', 'TXT']))).to.deep.equal([]);
  });

  it('a DnsError from another copy of nodens keeps its rcode and Extended DNS Error', async () => {
    const other = await startServer('. {\n  foreign_test\n}\n', { plugins });
    try {
      const out = await other.dig(['+nocookie', 'x.test', 'A']);
      expect(out).to.include('status: REFUSED');
      expect(optLines(out)).to.deep.equal(['EDE: 18 (Prohibited): (not from here)']);
    } finally {
      await other.close();
    }
  });

  it('a client without EDNS gets no OPT, options or not', async () => {
    const out = await s.dig(['+noedns', 'x.opts.test', 'TXT']);
    expect(out).to.not.include('OPT PSEUDOSECTION');
  });
});

describe('contract: Extended DNS Errors of the built-ins (dig)', function () {
  this.timeout(30_000);

  it('cache serve_stale marks a stale answer with EDE 3', async () => {
    const up: Dnsmasq = await startDnsmasq({ args: ['--local-ttl=300', '--address=/example.test/10.1.2.3'], probe: 'up.example.test' });
    const s = await startServer(`. {\n  cache {\n    success 1000 1 0\n    serve_stale\n  }\n  forward . 127.0.0.1:${up.port}\n}\n`);
    try {
      const fresh = await s.dig(['www.example.test', 'A']);
      expect(fresh).to.match(/www\.example\.test\.\s+1\s+IN\s+A\s+10\.1\.2\.3/);
      expect(optLines(fresh)).to.deep.equal([]);
      await up.stop();
      // The entry's one-second TTL must run out: there is no event to wait for but time.
      await new Promise((r) => setTimeout(r, 1100));
      const stale = await s.dig(['www.example.test', 'A']);
      expect(stale).to.match(/www\.example\.test\.\s+0\s+IN\s+A\s+10\.1\.2\.3/);
      expect(optLines(stale)).to.deep.equal(['EDE: 3 (Stale Answer)']);
    } finally {
      await s.close();
      await up.stop();
    }
  });

  it('forward with its upstream unreachable answers SERVFAIL with EDE 22 or 23 and the reason', async () => {
    // A UDP port with a socket that never answers: every try times out.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const port = silent.address().port;
    const s = await startServer(`. {\n  forward . 127.0.0.1:${port}\n}\n`);
    try {
      const out = await s.dig(['+time=8', 'www.example.test', 'A']);
      expect(out).to.include('status: SERVFAIL');
      expect(optLines(out)).to.have.length(1);
      expect(optLines(out)[0]).to.match(/^EDE: 22 \(No Reachable Authority\): \(forward: .+\)$/);
    } finally {
      await s.close();
      silent.close();
    }
  });

  it('forward to a closed port: EDE 23 (Network Error) when the network says no', async () => {
    const port = await freePort();
    const s = await startServer(`. {\n  forward . 127.0.0.1:${port} {\n    force_tcp\n  }\n}\n`);
    try {
      const out = await s.dig(['+time=8', 'www.example.test', 'A']);
      expect(out).to.include('status: SERVFAIL');
      expect(optLines(out)[0]).to.match(/^EDE: 23 \(Network Error\): \(forward: .+\)$/);
    } finally {
      await s.close();
    }
  });

  it('kubernetes not yet synced answers SERVFAIL with EDE 14 (Not Ready)', async () => {
    const api = await FakeApiServer.start();
    await api.stop();
    const s = await startServer(`cluster.local {\n  kubernetes {\n    endpoint ${api.url}\n    startup_timeout 100ms\n  }\n}\n`);
    try {
      const out = await s.dig(['db.default.svc.cluster.local', 'A']);
      expect(out).to.include('status: SERVFAIL');
      expect(optLines(out)).to.deep.equal(['EDE: 14 (Not Ready): (kubernetes: not yet synced with the API)']);
    } finally {
      await s.close();
      await api.close();
    }
  });
});

describe('contract: kubernetes metadata in log lines', function () {
  this.timeout(20_000);
  it('{/kubernetes/client-namespace} and {/kubernetes/client-pod-name} name the client\'s pod (pods verified)', async () => {
    const api = await FakeApiServer.start();
    api.add('namespaces', namespace('default'), namespace('shop'));
    api.add('services', service('default', 'db', { clusterIPs: ['10.96.0.9'], ports: http80 }));
    api.add('pods', pod('shop', 'cart-0', '127.0.0.1'));
    const s = await startServer(`cluster.local {\n  metadata_test\n  log . "{/kubernetes/client-namespace} {/kubernetes/client-pod-name} {/kubernetes/service}.{/kubernetes/namespace} {rcode}"\n  kubernetes {\n    endpoint ${api.url}\n    pods verified\n  }\n}\n`, { plugins });
    try {
      expect(await s.dig(['+short', 'db.default.svc.cluster.local'])).to.equal('10.96.0.9\n');
      expect(s.logs.filter((l) => l.includes('NOERROR'))).to.deep.equal(['[INFO] shop cart-0 db.default NOERROR']);
    } finally {
      await s.close();
      await api.close();
    }
  });
});

describe('contract: Rcode re-export sanity', () => {
  it('EdeCode names RFC 8914 codes', () => {
    expect([EdeCode.StaleAnswer, EdeCode.NotReady, EdeCode.NoReachableAuthority, EdeCode.NetworkError, Rcode.SERVFAIL]).to.deep.equal([3, 14, 22, 23, 2]);
  });
});
