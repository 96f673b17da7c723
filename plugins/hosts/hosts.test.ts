import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../core/log.js';
import { Rcode, makeReply, messageOf, recordType, type Message } from '../../core/message.js';
import { createMetrics } from '../../core/metrics.js';
import type { Handler, SetupEnv } from '../../core/plugin.js';
import { makeRequest, rrText, startServer, stubNext } from '../../core/testing.js';
import { setup, type HostsOptions } from './setup.js';

function testEnv(zones: string[], configDir = '/'): SetupEnv & { lines: string[] } {
  const logger = memoryLogger();
  return {
    logger, lines: logger.lines, zones, configDir, configFile: join(configDir, 'Corefile'), configFiles: [], listen: [],
    metrics: createMetrics(), onStartup: () => {}, onShutdown: () => {}, instances: () => [],
    resolve: () => Promise.reject(new Error('no server')), control: { reload: async () => {}, fatal: () => {} },
  };
}

const HOSTS = `
10.0.0.1 a.example.org
10.0.0.2 a.example.org b.example.org
::1 a.example.org
10.0.0.9 v4only.example.org
fd00::9 v6only.example.org
10.0.0.5 *.wild.example.org
10.0.0.6 exact.wild.example.org
10.1.1.1 outside.test
`;

describe('hosts: handler', () => {
  let dir: string;
  let file: string;
  const handlers: Handler[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nodens-hosts-'));
    file = join(dir, 'hosts');
    writeFileSync(file, HOSTS);
  });
  after(async () => {
    for (const h of handlers) await h.close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  async function make(opts: HostsOptions, zones = ['example.org']): Promise<Handler> {
    const h = await setup({ file, reload: '0', ...opts }, testEnv(zones, dir));
    handlers.push(h);
    return h;
  }

  interface Case {
    name: string;
    opts?: HostsOptions;
    zones?: string[];
    q: [string, string];
    want: { next: true } | { rcode: number; aa?: boolean; answer: string[] };
  }
  const cases: Case[] = [
    { name: 'A: every address, file order', q: ['a.example.org', 'A'],
      want: { rcode: 0, aa: true, answer: ['a.example.org. 3600 IN A 10.0.0.1', 'a.example.org. 3600 IN A 10.0.0.2'] } },
    { name: 'case-insensitive, answered with the lower-case name', q: ['A.Example.ORG', 'AAAA'],
      want: { rcode: 0, aa: true, answer: ['a.example.org. 3600 IN AAAA ::1'] } },
    { name: 'ttl option', opts: { ttl: 30 }, q: ['b.example.org', 'A'],
      want: { rcode: 0, aa: true, answer: ['b.example.org. 30 IN A 10.0.0.2'] } },
    { name: 'NODATA: v4-only name asked AAAA', q: ['v4only.example.org', 'AAAA'], want: { rcode: 0, aa: true, answer: [] } },
    { name: 'NODATA: known name asked MX', q: ['v6only.example.org', 'MX'], want: { rcode: 0, aa: true, answer: [] } },
    { name: 'missing name without fallthrough: SERVFAIL (no SOA for an NXDOMAIN)', q: ['nope.example.org', 'A'],
      want: { rcode: Rcode.SERVFAIL, answer: [] } },
    { name: 'missing name with fallthrough', opts: { fallthrough: [] }, q: ['nope.example.org', 'A'], want: { next: true } },
    { name: 'fallthrough limited to other zones', opts: { fallthrough: ['sub.example.org'] }, q: ['nope.example.org', 'A'],
      want: { rcode: Rcode.SERVFAIL, answer: [] } },
    { name: 'fallthrough zone matches', opts: { fallthrough: ['sub.example.org'] }, q: ['x.sub.example.org', 'A'], want: { next: true } },
    { name: 'a NODATA does not fall through', opts: { fallthrough: [] }, q: ['v4only.example.org', 'TXT'], want: { rcode: 0, aa: true, answer: [] } },
    { name: 'fallthrough_unsupported passes other types of known names on', opts: { fallthrough: [], fallthrough_unsupported: true },
      q: ['v4only.example.org', 'TXT'], want: { next: true } },
    { name: 'fallthrough_unsupported keeps NODATA for the other family', opts: { fallthrough: [], fallthrough_unsupported: true },
      q: ['v4only.example.org', 'AAAA'], want: { rcode: 0, aa: true, answer: [] } },
    { name: 'outside the zones: next, whatever fallthrough says', q: ['outside.test', 'A'], want: { next: true } },
    { name: 'names outside the zones are not loaded', zones: [''], q: ['outside.test', 'A'],
      want: { rcode: 0, aa: true, answer: ['outside.test. 3600 IN A 10.1.1.1'] } },
    { name: 'PTR from the IPv4 entries', q: ['2.0.0.10.in-addr.arpa', 'PTR'],
      want: { rcode: 0, aa: true, answer: ['2.0.0.10.in-addr.arpa. 3600 IN PTR a.example.org.', '2.0.0.10.in-addr.arpa. 3600 IN PTR b.example.org.'] } },
    { name: 'PTR from the IPv6 entries', q: [`9.${'0.'.repeat(29)}d.f.ip6.arpa`, 'PTR'],
      want: { rcode: 0, aa: true, answer: [`9.${'0.'.repeat(29)}d.f.ip6.arpa. 3600 IN PTR v6only.example.org.`] } },
    { name: 'unknown PTR: next even without fallthrough', q: ['99.0.0.10.in-addr.arpa', 'PTR'], want: { next: true } },
    { name: 'no_reverse: no PTR', opts: { no_reverse: true }, q: ['1.0.0.10.in-addr.arpa', 'PTR'], want: { next: true } },
    { name: 'wildcard matches one label', q: ['app.wild.example.org', 'A'],
      want: { rcode: 0, aa: true, answer: ['app.wild.example.org. 3600 IN A 10.0.0.5'] } },
    { name: 'an exact name beats the wildcard', q: ['exact.wild.example.org', 'A'],
      want: { rcode: 0, aa: true, answer: ['exact.wild.example.org. 3600 IN A 10.0.0.6'] } },
    { name: 'wildcard does not match two labels', q: ['a.b.wild.example.org', 'A'], want: { rcode: Rcode.SERVFAIL, answer: [] } },
    { name: 'wildcard does not match the apex', q: ['wild.example.org', 'A'], want: { rcode: Rcode.SERVFAIL, answer: [] } },
    { name: 'no PTR for a wildcard', opts: { fallthrough: [] }, q: ['5.0.0.10.in-addr.arpa', 'PTR'], want: { next: true } },
    { name: 'inline entries follow the file\'s', opts: { inline: ['10.0.0.3 a.example.org', '10.0.0.7 inline.example.org'] },
      q: ['a.example.org', 'A'],
      want: { rcode: 0, aa: true, answer: ['a.example.org. 3600 IN A 10.0.0.1', 'a.example.org. 3600 IN A 10.0.0.2', 'a.example.org. 3600 IN A 10.0.0.3'] } },
    { name: 'plugin ZONES narrow the block zones', opts: { zones: ['wild.example.org'] }, q: ['a.example.org', 'A'], want: { next: true } },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const h = await make(c.opts ?? {}, c.zones);
      const req = makeRequest(c.q[0], c.q[1]);
      const next = stubNext(req, makeReply(req.query, { rcode: Rcode.REFUSED }));
      const reply = messageOf(await h.serve!(req, next));
      if ('next' in c.want) {
        expect(next.calls, 'next called').to.equal(1);
        expect(reply.rcode).to.equal(Rcode.REFUSED);
        return;
      }
      expect(next.calls, 'next not called').to.equal(0);
      expect(reply.rcode).to.equal(c.want.rcode);
      expect(reply.aa).to.equal(c.want.aa ?? false);
      expect(reply.answer.map(rrText)).to.deep.equal(c.want.answer);
      expect(reply.id).to.equal(req.query.id);
    });
  }

  it('serve() is synchronous on a hit', async () => {
    const h = await make({});
    const req = makeRequest('a.example.org', 'A');
    const reply = h.serve!(req, stubNext(req));
    expect(reply).to.not.be.instanceOf(Promise);
  });

  it('a missing file warns and serves the inline entries', async () => {
    const env = testEnv(['example.org'], dir);
    const h = await setup({ file: 'missing-hosts', reload: '0', inline: ['10.0.0.7 inline.example.org'] }, env);
    handlers.push(h);
    const req = makeRequest('inline.example.org', 'A');
    expect(messageOf(await h.serve!(req, stubNext(req))).answer.map(rrText)).to.deep.equal(['inline.example.org. 3600 IN A 10.0.0.7']);
    expect(env.lines).to.include(`[WARNING] File does not exist: ${join(dir, 'missing-hosts')}`);
  });

  it('reload: re-reads a changed file, keeps entries when it is removed', async () => {
    const path = join(dir, 'reloading');
    writeFileSync(path, '10.0.0.1 r.example.org\n');
    const h = await setup({ file: path, reload: '20ms' }, testEnv(['example.org'], dir));
    handlers.push(h);
    const ask = async (): Promise<string[]> => {
      const req = makeRequest('r.example.org', 'A');
      return (messageOf(await h.serve!(req, stubNext(req))) as Message).answer.map((r) => (r.type === 'A' ? r.data : recordType(r)));
    };
    expect(await ask()).to.deep.equal(['10.0.0.1']);
    writeFileSync(path, '10.0.0.2 r.example.org\n10.0.0.3 r.example.org\n');
    expect(await until(async () => (await ask()).length === 2)).to.equal(true);
    expect(await ask()).to.deep.equal(['10.0.0.2', '10.0.0.3']);
    rmSync(path);
    await new Promise((r) => setTimeout(r, 60)); // a few reload periods: the entries must stay
    expect(await ask()).to.deep.equal(['10.0.0.2', '10.0.0.3']);
  });

  it('close() stops the reload timer', async () => {
    const path = join(dir, 'closing');
    writeFileSync(path, '10.0.0.1 c.example.org\n');
    const h = await setup({ file: path, reload: '10ms' }, testEnv(['example.org'], dir));
    await h.close!();
    writeFileSync(path, '10.0.0.2 c.example.org\n10.0.0.3 c.example.org\n');
    await new Promise((r) => setTimeout(r, 60));
    const req = makeRequest('c.example.org', 'A');
    expect(messageOf(await h.serve!(req, stubNext(req))).answer).to.have.length(1);
  });
});

/** Polls `cond` every 10 ms for up to 2 s. */
async function until(cond: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('hosts: over sockets', () => {
  let dir: string;
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nodens-hosts-srv-'));
    writeFileSync(join(dir, 'hosts'), '10.0.0.1 a.example.org\nfd00::1 a.example.org\n');
    srv = await startServer(`example.org ip6.arpa {\n  hosts hosts {\n    10.0.0.2 inline.example.org\n    ttl 60\n  }\n}\n`, { file: join(dir, 'Corefile') });
  });
  after(async () => {
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`answers A from the file over ${transport}`, async () => {
      const m = await srv.query('a.example.org', 'A', { transport });
      expect(m.rcode).to.equal(0);
      expect(m.aa).to.equal(true);
      expect(m.answer.map(rrText)).to.deep.equal(['a.example.org. 60 IN A 10.0.0.1']);
    });
  }

  it('answers inline entries, NODATA and SERVFAIL as dig shows them', async () => {
    expect(await srv.dig(['+short', 'inline.example.org', 'A'])).to.equal('10.0.0.2\n');
    expect(await srv.dig(['inline.example.org', 'AAAA'])).to.match(/status: NOERROR/).and.match(/ANSWER: 0,/);
    expect(await srv.dig(['missing.example.org', 'A'])).to.match(/status: SERVFAIL/);
    expect(await srv.dig(['+short', '-x', 'fd00::1'])).to.equal('a.example.org.\n');
  });
});
