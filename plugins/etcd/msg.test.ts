import { expect } from 'chai';
import { domainOf, group, hostKind, keyOf, parseService, serviceJson, split255, targetStrip, type Service } from './msg.js';
import { ServiceTree } from './store.js';

const svc = (key: string, fields: Partial<Service> = {}): Service => ({
  host: '', port: 0, priority: 0, weight: 0, text: '', mail: false, ttl: 0, targetstrip: 0, group: '', key, ...fields,
});

describe('etcd: SkyDNS messages and keys', () => {
  const keys: [string, string, string][] = [
    ['a.b.example.org', '/skydns', '/skydns/org/example/b/a'],
    ['example.org', 'skydns/', '/skydns/org/example'],
    ['a.example.org', '/my/prefix', '/my/prefix/org/example/a'],
    ['', '/skydns', '/skydns'],
  ];
  for (const [name, path, key] of keys) {
    it(`keyOf(${name || '.'}, ${path}) = ${key}, and back`, () => {
      expect(keyOf(name, path)).to.equal(key);
      expect(domainOf(key, path)).to.equal(name);
    });
  }

  it('reads a key with a trailing slash as the name itself', () => {
    expect(domainOf('/skydns/local/skydns/', '/skydns')).to.equal('skydns.local');
  });

  it('parses values leniently as Go does (field case, numbers as strings) and rejects the wrong kinds', () => {
    const s = parseService('/k', '{"Host":"10.0.0.1","ttl":"60","port":53,"mail":true,"extra":1}');
    expect(s).to.include({ host: '10.0.0.1', ttl: 60, port: 53, mail: true, key: '/k' });
    expect(() => parseService('/k', '[1]')).to.throw(/not a JSON object/);
    expect(() => parseService('/k', '{"port":"x"}')).to.throw(/port must be an integer/);
    expect(() => parseService('/k', '{"host":1}')).to.throw(/host must be a string/);
  });

  it('writes only the fields that are set', () => {
    expect(serviceJson({ host: '10.0.0.1', port: 0, priority: 10, ttl: 30 })).to.equal('{"host":"10.0.0.1","priority":10,"ttl":30}');
  });

  it('tells what a host stands for', () => {
    expect([svc('/k', { host: '10.0.0.1' }), svc('/k', { host: '::1' }), svc('/k', { host: 'a.b' }), svc('/k', { text: 't' })].map(hostKind))
      .to.deep.equal(['A', 'AAAA', 'CNAME', 'TXT']);
  });

  it('strips target labels unless that would leave nothing', () => {
    expect(targetStrip('a.b.c', 1)).to.equal('b.c');
    expect(targetStrip('a.b.c', 3)).to.equal('a.b.c');
  });

  it('splits TXT at 255 bytes', () => {
    expect(split255('x'.repeat(254))).to.have.length(1);
    expect(split255('x'.repeat(600)).map((s) => s.length)).to.deep.equal([255, 255, 90]);
  });

  it('groups as CoreDNS: disagreement at the shortest depth keeps all', () => {
    const all = [svc('/s/a/x', { group: 'g1' }), svc('/s/a/y', { group: 'g2' }), svc('/s/a/z/w', { group: 'g1' })];
    expect(group(all)).to.equal(all);
  });
});

describe('etcd: the service tree', () => {
  it('prunes deleted names so they become NXDOMAIN, keeping their parents while children remain', () => {
    const t = new ServiceTree('/skydns');
    t.set(svc('/skydns/org/example/b/a', { host: '10.0.0.1' }));
    t.set(svc('/skydns/org/example/c', { host: '10.0.0.2' }));
    expect(t.lookup('b.example.org', false)!.map((s) => s.host)).to.deep.equal(['10.0.0.1']);
    expect(t.lookup('b.example.org', true)).to.deep.equal([]);
    t.delete('/skydns/org/example/b/a');
    expect(t.lookup('b.example.org', false)).to.equal(undefined);
    expect(t.lookup('example.org', false)!.map((s) => s.host)).to.deep.equal(['10.0.0.2']);
    expect(t.size).to.equal(1);
  });

  it('ignores keys outside its path, and a key that is also a parent answers with its children', () => {
    const t = new ServiceTree('/skydns');
    t.set(svc('/other/org/example', { host: '10.0.0.9' }));
    t.set(svc('/skydns/org/example', { host: '10.0.0.1' }));
    t.set(svc('/skydns/org/example/x', { host: '10.0.0.2' }));
    expect(t.size).to.equal(2);
    expect(t.lookup('example.org', false)!.map((s) => s.host)).to.deep.equal(['10.0.0.2']);
    expect(t.lookup('example.org', true)!.map((s) => s.host)).to.deep.equal(['10.0.0.1']);
  });
});
