import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeReply, type Request } from 'nodens';
import { configErrorOf, makeRequest, parseDirective, rrText, stubNext, testEnv } from 'nodens/testing';
import { AutoPath } from './autopath.js';
import autopath from './index.js';
import { searchDomains, setup, type AutoPathOptions } from './setup.js';

describe('autopath: setup (CoreDNS setup_test.go TestSetupAutoPath)', () => {
  const ok: [string, AutoPathOptions, string[]?][] = [
    ['autopath @kubernetes', { plugin: 'kubernetes' }],
    ['autopath example.org @kubernetes', { plugin: 'kubernetes', zones: ['example.org'] }],
    ['autopath 10.0.0.0/8 @kubernetes', { plugin: 'kubernetes', zones: ['10.in-addr.arpa'] }],
    ['autopath /etc/resolv.conf', { resolv_conf: '/etc/resolv.conf' }],
  ];
  for (const [text, want] of ok) it(`parses ${text}`, () => expect(parseDirective(autopath, text)).to.deep.equal(want));

  it("rejects 'autopath' without a resolv-conf (\"no resolv-conf\")", () => {
    expect(configErrorOf(() => parseDirective(autopath, 'autopath')).detail).to.match(/no resolv-conf/);
  });

  it('a resolv.conf that cannot be read is logged ("failed to parse", as CoreDNS\'s `autopath kubernetes`) and autopath is off', async () => {
    const env = testEnv({ plugin: 'autopath' });
    const h = setup({ resolv_conf: '/nonexistent/kubernetes' }, env);
    expect(env.logger.lines.join('\n')).to.match(/failed to parse "\/nonexistent\/kubernetes"/);
    const req = makeRequest('a.default.svc.cluster.local', 'A');
    const next = chain(req, { 'a.example.org': '1.2.3.4' });
    await h.serve!(req, next);
    expect(next.calls).to.equal(1);
  });

  it('reads the search domains of a resolv.conf (the last search line wins; comments dropped)', () => {
    expect(searchDomains('nameserver 1.2.3.4\ndomain foo.com\nsearch bar.com baz.com. # a comment\noptions ndots:5\n')).to.deep.equal(['bar.com', 'baz.com']);
  });
});

/** A chain behind autopath where only `exists` has an answer. */
function chain(req: Request, exists: Record<string, string>) {
  return stubNext(req, (seen) => {
    const ip = exists[seen.qname];
    return ip === undefined ? makeReply(seen.query, { rcode: 3 }) : makeReply(seen.query, { answer: [{ name: seen.qname, ttl: 30, type: 'A', data: ip }] });
  });
}

describe('autopath: the walk (CoreDNS autopath_test.go)', () => {
  const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.org', ''];
  const ap = new AutoPath({ zones: [''], searchPath: () => search });

  const table: { name: string; q: string; exists: Record<string, string>; answer: string[]; rcode?: number; calls: number }[] = [
    {
      name: 'TestAutoPath: found in the resolv.conf domain', q: 'a.default.svc.cluster.local', exists: { 'a.example.org': '127.0.0.53' }, calls: 4,
      answer: ['a.default.svc.cluster.local. 30 IN CNAME a.example.org.', 'a.example.org. 30 IN A 127.0.0.53'],
    },
    {
      name: 'found as the bare name (the \'\' sentinel)', q: 'api.example.com.default.svc.cluster.local', exists: { 'api.example.com': '192.0.2.1' }, calls: 5,
      answer: ['api.example.com.default.svc.cluster.local. 30 IN CNAME api.example.com.', 'api.example.com. 30 IN A 192.0.2.1'],
    },
    { name: 'found at once: no CNAME', q: 'web.default.svc.cluster.local', exists: { 'web.default.svc.cluster.local': '10.0.0.1' }, calls: 1, answer: ['web.default.svc.cluster.local. 30 IN A 10.0.0.1'] },
    { name: 'TestAutoPathNoAnswer: every name NXDOMAIN → the first reply', q: 'x.default.svc.cluster.local', exists: {}, calls: 5, answer: [], rcode: 3 },
    { name: 'not in the first search domain: passed on untouched', q: 'a.svc.cluster.local', exists: {}, calls: 1, answer: [], rcode: 3 },
  ];
  for (const c of table) {
    it(c.name, async () => {
      const req = makeRequest(c.q, 'A');
      const next = chain(req, c.exists);
      const m = await ap.serve(req, next);
      expect('answer' in m ? m.answer.map(rrText) : []).to.deep.equal(c.answer);
      expect('rcode' in m ? m.rcode : -1).to.equal(c.rcode ?? 0);
      expect(next.calls).to.equal(c.calls);
    });
  }

  it('no search path for this client (not a pod we know): next() once', async () => {
    const none = new AutoPath({ zones: [''], searchPath: () => undefined });
    const req = makeRequest('a.default.svc.cluster.local', 'A');
    const next = chain(req, { 'a.example.org': '1.2.3.4' });
    await none.serve(req, next);
    expect(next.calls).to.equal(1);
  });

  it('@kubernetes: the named instance\'s autoPath() is used once startup has run', async () => {
    let asked = 0;
    const env = testEnv({ instances: () => [{ name: 'kubernetes', zones: [''], handler: { autoPath: () => (asked++, search) } as never }] });
    const h = setup({ plugin: 'kubernetes' }, env);
    await env.startup();
    const req = makeRequest('a.default.svc.cluster.local', 'A');
    const m = await h.serve!(req, chain(req, { 'a.example.org': '127.0.0.53' }));
    expect(asked).to.equal(1);
    expect('answer' in m ? m.answer.map(rrText) : []).to.have.length(2);
  });

  it('@plugin naming one that is no AutoPather logs an error and passes queries on', async () => {
    const env = testEnv({ plugin: 'autopath', instances: () => [{ name: 'hosts', zones: [''], handler: {} }] });
    const h = setup({ plugin: 'hosts' }, env);
    await env.startup();
    expect(env.logger.lines.join('\n')).to.match(/hosts does not implement the AutoPather interface/);
    const req = makeRequest('a.default.svc.cluster.local', 'A');
    const next = chain(req, {});
    await h.serve!(req, next);
    expect(next.calls).to.equal(1);
  });
});

describe('autopath: a resolv.conf on disk', () => {
  it('every client gets its search domains', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodens-ap-'));
    try {
      await writeFile(join(dir, 'resolv.conf'), 'search corp.test other.test\n');
      const h = setup({ resolv_conf: 'resolv.conf' }, testEnv({ configDir: dir }));
      const req = makeRequest('db.corp.test', 'A');
      const m = await h.serve!(req, chain(req, { 'db.other.test': '10.1.1.1' }));
      expect('answer' in m ? m.answer.map(rrText) : []).to.deep.equal(['db.corp.test. 30 IN CNAME db.other.test.', 'db.other.test. 30 IN A 10.1.1.1']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
