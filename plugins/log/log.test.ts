import { expect } from 'chai';
import { loadConfigText } from '../../core/config/load.js';
import { createRegistry } from '../../core/create.js';
import { memoryLogger } from '../../core/log.js';
import { Rcode, WireReply, makeReply, type Message, type Reply } from '../../core/message.js';
import { createMetrics } from '../../core/metrics.js';
import type { Done, SetupEnv } from '../../core/plugin.js';
import { makeRequest, rr, startServer, stubNext, type TestRequestOptions } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { bracketed, classify, compileFormat, formatDuration } from './format.js';
import { parse, setup, type LogOptions } from './setup.js';
import { configErrorOf } from '../../core/testing.js';

function testEnv(): SetupEnv & { lines: string[] } {
  const logger = memoryLogger();
  return {
    logger, lines: logger.lines, zones: [''], configDir: '/', configFile: '/Corefile', configFiles: [], listen: [],
    metrics: createMetrics(), onStartup: () => {}, onShutdown: () => {}, instances: () => [],
    resolve: () => Promise.reject(new Error('no server')), control: { reload: async () => {}, fatal: () => {} },
  };
}

function done(reply: Reply | undefined, over: Partial<Done> = {}): Done {
  return { reply, rcode: reply instanceof WireReply ? reply.rcode : reply?.rcode ?? 0, size: 68, truncated: false, durationMs: 37.990251, plugin: 'hosts', ...over };
}

describe('log: format', () => {
  it('writes addresses as CoreDNS does', () => {
    expect(['10.0.0.1', '::1', '::ffff:127.0.0.1', 'fe80::ffff:1'].map(bracketed)).to.deep.equal(['10.0.0.1', '[::1]', '127.0.0.1', '[fe80::ffff:1]']);
  });

  it('formats durations as Go prints seconds', () => {
    expect(formatDuration(37.990251)).to.equal('0.037990251s');
    expect(formatDuration(1000)).to.equal('1s');
    expect(formatDuration(0.0005)).to.equal('0.0000005s');
    expect(formatDuration(1500.25)).to.equal('1.50025s');
  });

  interface Case { name: string; format: string; req?: [string, string, TestRequestOptions?]; reply?: (q: Message) => Reply | undefined; over?: Partial<Done>; want: string }
  const cases: Case[] = [
    {
      name: 'the default (common) format, IPv6 client in brackets',
      format: '{common}', req: ['Example.org', 'A', { clientAddress: '::1', clientPort: 50759, id: 29008, edns: { udpSize: 4096, do: false, version: 0 } }],
      reply: (q) => ({ ...makeReply(q, { ra: true, ad: true, answer: [rr`example.org. 60 IN A 10.0.0.1`] }) }),
      want: '[::1]:50759 - 29008 "A IN example.org. udp 40 false 4096" NOERROR qr,rd,ra,ad 68 0.037990251s',
    },
    {
      name: 'combined adds the opcode; no EDNS means bufsize 512',
      format: '{combined}', req: ['x.test', 'AAAA', { clientAddress: '10.1.2.3', clientPort: 1234, id: 7, transport: 'tcp' }],
      reply: (q) => makeReply(q, { rcode: Rcode.NXDOMAIN, aa: true }),
      want: '10.1.2.3:1234 - 7 "AAAA IN x.test. tcp 40 false 512" NXDOMAIN qr,aa,rd 68 0.037990251s "0"',
    },
    {
      name: 'custom format with every other placeholder, metadata and unknown ones',
      format: '{proto} Request: {name} {type} {>id} {local} {size} {>do} {/meta} {nope} {rsize}',
      req: ['a.b', 'MX', { id: 9, do: true }], reply: (q) => makeReply(q),
      want: 'udp Request: a.b. MX 9 127.0.0.1 40 true - {nope} 68',
    },
    {
      name: 'a truncated reply shows tc',
      format: '{>rflags}', reply: (q) => makeReply(q, { answer: [rr`a. 1 IN A 10.0.0.1`] }), over: { truncated: true },
      want: 'qr,tc,rd',
    },
    {
      name: 'wire replies: rcode and flags from the bytes',
      format: '{rcode} {>rflags}', reply: (q) => new WireReply(encodeMessage(makeReply(q, { rcode: Rcode.SERVFAIL, ra: true }))),
      want: 'SERVFAIL qr,rd,ra',
    },
    { name: 'a dropped query', format: '{rcode} {>rflags}', reply: () => undefined, want: '- -' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [name, type, opts] = c.req ?? ['example.org', 'A', {}];
      const req = makeRequest(name, type, opts);
      expect(compileFormat(c.format)(req, done(c.reply?.(req.query), c.over))).to.equal(c.want);
    });
  }

  it('prints metadata labels published by any plugin, computing lazy ones when the line is written', () => {
    const req = makeRequest('web.test', 'A', { clientAddress: '10.244.1.7' });
    const render = compileFormat('{/kubernetes/client-namespace} {/kubernetes/client-pod-name} {/nobody/else} {name}');
    let computed = 0;
    req.metadata.set('kubernetes/client-namespace', () => (computed++, 'shop'));
    expect(computed, 'nothing computed before the line is written').to.equal(0);
    expect(render(req, done(makeReply(req.query)))).to.equal('shop - - web.test.');
    req.metadata.set('kubernetes/client-pod-name', 'web-0');
    expect(render(req, done(makeReply(req.query)))).to.equal('shop web-0 - web.test.');
    expect(computed).to.equal(1);
  });

  const classes: { name: string; reply: (q: Message) => Reply | undefined; want: string }[] = [
    { name: 'answers', reply: (q) => makeReply(q, { answer: [rr`example.org. 1 IN A 10.0.0.1`] }), want: 'success' },
    { name: 'NOERROR without SOA', reply: (q) => makeReply(q), want: 'success' },
    { name: 'NODATA with SOA', reply: (q) => makeReply(q, { authority: [rr`org. 60 IN SOA ns. h. 1 2 3 4 5`] }), want: 'denial' },
    { name: 'NXDOMAIN with SOA', reply: (q) => makeReply(q, { rcode: 3, authority: [rr`org. 60 IN SOA ns. h. 1 2 3 4 5`] }), want: 'denial' },
    { name: 'NXDOMAIN with SOA, wire', reply: (q) => new WireReply(encodeMessage(makeReply(q, { rcode: 3, authority: [rr`org. 60 IN SOA ns. h. 1 2 3 4 5`] }))), want: 'denial' },
    { name: 'NXDOMAIN without SOA (CoreDNS: OtherError)', reply: (q) => makeReply(q, { rcode: 3 }), want: 'error' },
    { name: 'SERVFAIL', reply: (q) => makeReply(q, { rcode: 2 }), want: 'error' },
    { name: 'REFUSED, wire', reply: (q) => new WireReply(encodeMessage(makeReply(q, { rcode: 5 }))), want: 'error' },
    { name: 'dropped', reply: () => undefined, want: 'error' },
  ];
  for (const c of classes) {
    it(`classifies ${c.name} as ${c.want}`, () => {
      const req = makeRequest('example.org', 'A');
      expect(classify(req, c.reply(req.query))).to.equal(c.want);
    });
  }
});

describe('log: handler', () => {
  interface Case { name: string; opts: LogOptions; q: string; reply?: (q: Message) => Reply; want: string[] }
  const cases: Case[] = [
    { name: 'logs everything by default', opts: {}, q: 'a.example.org',
      want: ['[INFO] 127.0.0.1:53000 - 1 "A IN a.example.org. udp 40 false 512" NXDOMAIN qr,rd 68 0.037990251s'] },
    { name: 'names limit what is logged (in)', opts: { names: ['example.org'], format: '{name}' }, q: 'a.example.org', want: ['[INFO] a.example.org.'] },
    { name: 'names limit what is logged (out)', opts: { names: ['example.org', 'example.net'], format: '{name}' }, q: 'example.com', want: [] },
    { name: 'class denial drops errors', opts: { class: ['denial'], format: '{rcode}' }, q: 'a.example.org', want: [] },
    { name: 'class error logs NXDOMAIN without SOA', opts: { class: ['denial', 'error'], format: '{rcode}' }, q: 'a.example.org', want: ['[INFO] NXDOMAIN'] },
    { name: 'class success', opts: { class: ['success'], format: '{rcode}' }, q: 'a.example.org',
      reply: (q) => makeReply(q, { answer: [rr`a.example.org. 5 IN A 10.0.0.1`] }), want: ['[INFO] NOERROR'] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const env = testEnv();
      const h = setup(c.opts, env);
      const req = makeRequest(c.q, 'A', { id: 1 });
      const next = stubNext(req, c.reply && ((r) => c.reply!(r.query)));
      const reply = await h.serve!(req, next);
      expect(next.calls).to.equal(1);
      expect(env.lines, 'nothing before the reply is sent').to.deep.equal([]);
      req.finish(done(reply));
      expect(env.lines).to.deep.equal(c.want);
    });
  }

  it('a query matched by two log lines is logged once, by the first', async () => {
    const env = testEnv();
    const first = setup({ names: ['example.org'], format: 'first {name}' }, env);
    const second = setup({ format: 'second {name}' }, env);
    const req = makeRequest('a.example.org', 'A');
    const reply = await first.serve!(req, () => second.serve!(req, stubNext(req)));
    req.finish(done(reply));
    expect(env.lines).to.deep.equal(['[INFO] first a.example.org.']);
  });
});

describe('log: setup', () => {
  const load = (directive: string): unknown[] =>
    loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} })
      .servers[0]!.plugins.filter((p) => p.name === 'log').map((p) => p.options);

  const ok: { corefile: string; want: unknown[] }[] = [
    { corefile: 'log', want: [{}] },
    { corefile: 'log example.org', want: [{ names: ['example.org'] }] },
    { corefile: 'log example.org example.net', want: [{ names: ['example.org', 'example.net'] }] },
    { corefile: 'log . "{proto} Request: {name} {type} {>id}"', want: [{ names: ['.'], format: '{proto} Request: {name} {type} {>id}' }] },
    { corefile: 'log . {combined} {\n  class denial error\n}', want: [{ names: ['.'], format: '{combined}', class: ['denial', 'error'] }] },
    { corefile: 'log . {\n  class denial\n  class success\n}', want: [{ names: ['.'], class: ['denial', 'success'] }] },
    { corefile: 'log a.org\nlog b.org', want: [{ names: ['a.org'] }, { names: ['b.org'] }] },
  ];
  for (const c of ok) {
    it(`parses: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      expect(load(c.corefile)).to.deep.equal(c.want);
    });
  }

  const bad: { corefile: string; line: number; col: number; message: RegExp }[] = [
    { corefile: 'log {\n  class\n}', line: 3, col: 3, message: /wrong argument count/ },
    { corefile: 'log {\n  class denail\n}', line: 3, col: 9, message: /did you mean 'denial'/ },
    { corefile: 'log {\n  clas all\n}', line: 3, col: 3, message: /did you mean 'class'/ },
  ];
  for (const c of bad) {
    it(`rejects at ${c.line}:${c.col}: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      const ce = configErrorOf(() => load(c.corefile));
      expect(ce.pos).to.include({ line: c.line, col: c.col });
      expect(ce.detail).to.match(c.message);
    });
  }

  it('parse() keeps a single argument as a name, not a format', () => {
    expect(parse({ name: { text: 'log', pos: { file: 'f', line: 1, col: 1 } }, args: [{ text: '{common}', pos: { file: 'f', line: 1, col: 5 } }] }))
      .to.deep.equal({ names: ['{common}'] });
  });
});

describe('log: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('example.org {\n  log\n  hosts {\n    10.0.0.1 a.example.org\n  }\n}\n');
  });
  after(async () => {
    await srv?.close();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`writes one CoreDNS line per query over ${transport}`, async () => {
      const before = srv.logs.length;
      const m = await srv.query('A.example.org', 'A', { transport, udpSize: 1232 });
      let line: string | undefined;
      for (let i = 0; i < 100 && line === undefined; i++) {
        line = srv.logs.slice(before).find((l) => l.includes('"A IN a.example.org.'));
        if (line === undefined) await new Promise((r) => setTimeout(r, 10));
      }
      const re = new RegExp(
        `^\\[INFO\\] 127\\.0\\.0\\.1:\\d+ - ${m.id} "A IN a\\.example\\.org\\. ${transport} \\d+ false 1232" NOERROR qr,aa,rd \\d+ \\d+(\\.\\d+)?s$`,
      );
      expect(line).to.match(re);
    });
  }
});
