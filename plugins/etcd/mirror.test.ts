// The mirror and the handler against a real etcd: record forms, changes, deletions, compaction,
// etcd going away and coming back, two replicas, and the plugin in a server queried with dig.
import { expect } from 'chai';
import type { Etcd3 } from 'etcd3';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { memoryLogger } from '../../core/log.js';
import { messageOf, Rcode, type Message } from '../../core/message.js';
import { makeRequest, rrText, startServer, stubNext } from '../../core/testing.js';
import { startEtcd, type EtcdFixture } from '../../test/fixtures/etcd.js';
import { createClient } from './client.js';
import { EtcdHandler } from './etcd.js';
import { EtcdMirror } from './mirror.js';
import { keyOf } from './msg.js';

/** Resolves with the event's arguments, or rejects after `ms`. */
async function event(emitter: EtcdMirror, name: string, ms: number, until: (...args: unknown[]) => boolean = () => true): Promise<unknown[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    for (;;) {
      const args = await once(emitter, name, { signal: ac.signal });
      if (until(...args)) return args;
    }
  } catch (err) {
    if (ac.signal.aborted) throw new Error(`no '${name}' event within ${ms} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

interface Replica {
  mirror: EtcdMirror;
  handler: EtcdHandler;
  client: Etcd3;
  ask(name: string, type: string): Promise<Message>;
  close(): Promise<void>;
}

async function replica(endpoint: string, path: string, zones: string[]): Promise<Replica> {
  const client = createClient({ endpoints: [endpoint], backoffCapMs: 200 });
  const mirror = new EtcdMirror(client, { path, logger: memoryLogger(), backoffCapMs: 200 });
  const handler = new EtcdHandler(zones, undefined, mirror);
  mirror.on('change', () => handler.invalidate());
  mirror.on('reload', () => handler.invalidate());
  mirror.start();
  const watching = mirror.connected ? Promise.resolve([]) : event(mirror, 'connected', 5000);
  expect(await mirror.waitSynced(5000), 'synced').to.equal(true);
  await watching;
  return {
    mirror, handler, client,
    ask: async (name, type) => {
      const req = makeRequest(name, type);
      return messageOf(await handler.serve(req, stubNext(req)));
    },
    close: async () => {
      await mirror.close();
      client.close();
    },
  };
}

const answers = (m: Message): string[] => m.answer.map(rrText).sort();

/** A TCP relay to etcd that can be cut (every connection dropped, new ones refused) and healed. */
async function relay(port: number): Promise<{ endpoint: string; cut(): void; heal(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((inbound) => {
    if (!open) return inbound.destroy();
    const outbound = connect({ host: '127.0.0.1', port });
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: own } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${own}`,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    heal: () => void (open = true),
    close: async () => {
      open = false;
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('etcd plugin against a real etcd', function () {
  this.timeout(30_000);
  let etcd: EtcdFixture;
  let client: Etcd3;
  const put = (name: string, value: object, path = '/skydns'): Promise<unknown> => client.put(keyOf(name, path)).value(JSON.stringify(value)).exec();

  before(async () => {
    etcd = await startEtcd();
    client = createClient({ endpoints: [etcd.endpoint] });
  });
  after(async () => {
    client?.close();
    await etcd?.close();
  });

  describe('serving from the mirror', () => {
    let r: Replica;
    before(async () => {
      await put('a.forms.test', { host: '10.1.0.1' });
      await put('v6.forms.test', { host: '2001:db8::1' });
      await put('alias.forms.test', { host: 'a.forms.test' });
      await put('x1.srv.forms.test', { host: 'a.forms.test', port: 80, priority: 10 });
      await put('x2.srv.forms.test', { host: '10.1.0.2', port: 81, priority: 10 });
      await put('txt.forms.test', { text: 'hello' });
      await put('mx.forms.test', { host: 'a.forms.test', priority: 5, mail: true });
      await put('a.ns.dns.forms.test', { host: '10.1.0.53' });
      await put('9.0.1.10.in-addr.arpa', { host: 'a.forms.test' });
      r = await replica(etcd.endpoint, '/skydns', ['forms.test', 'in-addr.arpa']);
    });
    after(async () => r?.close());

    const FORMS: [string, string, string[]][] = [
      ['a.forms.test', 'A', ['a.forms.test. 300 IN A 10.1.0.1']],
      ['v6.forms.test', 'AAAA', ['v6.forms.test. 300 IN AAAA 2001:db8::1']],
      ['alias.forms.test', 'A', ['a.forms.test. 300 IN A 10.1.0.1', 'alias.forms.test. 300 IN CNAME a.forms.test.']],
      ['srv.forms.test', 'SRV', ['srv.forms.test. 300 IN SRV 10 50 80 a.forms.test.', 'srv.forms.test. 300 IN SRV 10 50 81 x2.srv.forms.test.']],
      ['txt.forms.test', 'TXT', ['txt.forms.test. 300 IN TXT "hello"']],
      ['mx.forms.test', 'MX', ['mx.forms.test. 300 IN MX 5 a.forms.test.']],
      ['forms.test', 'NS', ['forms.test. 300 IN NS a.ns.dns.forms.test.']],
      ['9.0.1.10.in-addr.arpa', 'PTR', ['9.0.1.10.in-addr.arpa. 300 IN PTR a.forms.test.']],
    ];
    for (const [name, type, want] of FORMS) {
      it(`serves ${type} ${name}`, async () => {
        expect(answers(await r.ask(name, type))).to.deep.equal(want);
      });
    }

    it('serves a change within 1 s, and a deletion', async () => {
      const t0 = performance.now();
      const changed = event(r.mirror, 'change', 1000);
      await put('new.forms.test', { host: '10.1.0.9' });
      await changed;
      expect(performance.now() - t0).to.be.below(1000);
      expect(answers(await r.ask('new.forms.test', 'A'))).to.deep.equal(['new.forms.test. 300 IN A 10.1.0.9']);

      const changedAgain = event(r.mirror, 'change', 1000);
      await put('new.forms.test', { host: '10.1.0.10', ttl: 60 });
      await changedAgain;
      expect(answers(await r.ask('new.forms.test', 'A'))).to.deep.equal(['new.forms.test. 60 IN A 10.1.0.10']);

      const deleted = event(r.mirror, 'change', 1000);
      await client.delete().key(keyOf('new.forms.test', '/skydns')).exec();
      await deleted;
      expect((await r.ask('new.forms.test', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
    });

    it('applies a transaction as one change', async () => {
      const changed = event(r.mirror, 'change', 1000);
      const putOp = (name: string, value: string) => ({ request_put: { key: Buffer.from(keyOf(name, '/skydns')), value: Buffer.from(value) } });
      await client.kv.txn({ compare: [], success: [putOp('t1.tx.forms.test', '{"host":"10.1.1.1"}'), putOp('t2.tx.forms.test', '{"host":"10.1.1.2"}')], failure: [] });
      await changed;
      expect(answers(await r.ask('tx.forms.test', 'A'))).to.deep.equal(['tx.forms.test. 300 IN A 10.1.1.1', 'tx.forms.test. 300 IN A 10.1.1.2']);
    });

    it('skips a value that is not SkyDNS JSON and logs it', async () => {
      const changed = event(r.mirror, 'change', 1000);
      await client.put(keyOf('bad.forms.test', '/skydns')).value('not json').exec();
      await changed;
      expect((await r.ask('bad.forms.test', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
      expect(answers(await r.ask('a.forms.test', 'A'))).to.deep.equal(['a.forms.test. 300 IN A 10.1.0.1']);
    });

    // Each replaces a good record: the key is skipped (its old value is stale), the others stay.
    const MALFORMED: [string, string, RegExp][] = [
      ['a JSON list', '[]', /value is not a JSON object/],
      ['null', 'null', /value is not a JSON object/],
      ['a host that is a number', '{"host":10}', /host must be a string/],
      ['a port that is a word', '{"host":"10.1.2.1","port":"eighty"}', /port must be an integer/],
      ['a port out of range', '{"host":"10.1.2.1","port":70000}', /port 70000 is out of range/],
      ['a negative ttl', '{"host":"10.1.2.1","ttl":-5}', /ttl -5 is out of range/],
      ['a huge host', `{"host":"${'h'.repeat(100_000)}"}`, /host is longer than 255/],
      ['a host with spaces', '{"host":"not a name"}', /neither an IP address nor a DNS name/],
      ['deep nesting', `{"host":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, /host must be a string|call stack/],
    ];
    for (const [what, value, why] of MALFORMED) {
      it(`skips a record with ${what}, counts it, and keeps the rest`, async () => {
        const log = memoryLogger();
        let counted = 0;
        const client2 = createClient({ endpoints: [etcd.endpoint], backoffCapMs: 200 });
        const mirror = new EtcdMirror(client2, { path: '/skydns', logger: log, logIntervalMs: 0, onMalformed: () => counted++ });
        try {
          await put('m.bad.forms.test', { host: '10.1.2.1' });
          mirror.start();
          expect(await mirror.waitSynced(5000)).to.equal(true);
          expect(mirror.tree.lookup('m.bad.forms.test', true)).to.have.length(1);
          if (!mirror.connected) await event(mirror, 'connected', 5000);
          // The earlier test's broken key is still there: only what this one puts counts.
          const [countedBefore, linesBefore] = [counted, log.lines.length];
          const changed = event(mirror, 'change', 2000);
          await client.put(keyOf('m.bad.forms.test', '/skydns')).value(value).exec();
          await changed;
          expect(mirror.tree.lookup('m.bad.forms.test', true)).to.equal(undefined);
          expect(mirror.tree.lookup('a.forms.test', true)).to.have.length(1);
          expect(counted - countedBefore).to.equal(1);
          const warned = log.lines.slice(linesBefore).filter((l) => l.includes('skipped malformed record'));
          expect(warned).to.have.length(1);
          expect(warned[0]).to.match(why);
        } finally {
          await mirror.close();
          client2.close();
          await client.delete().key(keyOf('m.bad.forms.test', '/skydns')).exec();
        }
      });
    }
  });

  it('two replicas on one etcd give identical answers', async () => {
    const path = '/replicas';
    const a = await replica(etcd.endpoint, path, ['rep.test']);
    try {
      for (let i = 0; i < 20; i++) await put(`h${i}.s${i % 3}.rep.test`, { host: `10.2.0.${i}`, port: 8000 + i, ...(i % 4 === 0 ? { text: `t${i}` } : {}) }, path);
      const b = await replica(etcd.endpoint, path, ['rep.test']);
      try {
        await client.delete().key(keyOf('h5.s2.rep.test', path)).exec();
        const last = await put('h99.s0.rep.test', { host: '10.2.0.99' }, path) as { header: { revision: string } };
        const rev = Number(last.header.revision);
        for (const m of [a.mirror, b.mirror]) if (m.revision < rev) await event(m, 'change', 1000, (r) => (r as number) >= rev);
        const questions: [string, string][] = [['rep.test', 'A'], ['s0.rep.test', 'A'], ['s1.rep.test', 'SRV'], ['s2.rep.test', 'SRV'], ['h4.s1.rep.test', 'TXT'], ['h5.s2.rep.test', 'A'], ['nope.rep.test', 'A'], ['rep.test', 'SOA']];
        for (const [name, type] of questions) {
          const [x, y] = [await a.ask(name, type), await b.ask(name, type)];
          expect({ rcode: y.rcode, answer: y.answer.map(rrText), authority: y.authority.map(rrText), extra: y.additional.map(rrText) }, `${name} ${type}`)
            .to.deep.equal({ rcode: x.rcode, answer: x.answer.map(rrText), authority: x.authority.map(rrText), extra: x.additional.map(rrText) });
        }
        expect(answers(await a.ask('s0.rep.test', 'A'))).to.include('s0.rep.test. 300 IN A 10.2.0.99');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });

  it('reloads consistently when its revision was compacted while it was cut off', async () => {
    const path = '/compact';
    await put('keep.c.test', { host: '10.3.0.1' }, path);
    await put('gone.c.test', { host: '10.3.0.2' }, path);
    const link = await relay(etcd.clientPort);
    const r = await replica(link.endpoint, path, ['c.test']);
    try {
      const lost = event(r.mirror, 'disconnected', 5000);
      link.cut();
      await lost;
      await client.delete().key(keyOf('gone.c.test', path)).exec();
      await put('added.c.test', { host: '10.3.0.3' }, path);
      const last = await put('keep.c.test', { host: '10.3.0.4' }, path) as { header: { revision: string } };
      await client.kv.compact({ revision: last.header.revision, physical: true });
      // Still serving the old contents while cut off.
      expect(answers(await r.ask('gone.c.test', 'A'))).to.deep.equal(['gone.c.test. 300 IN A 10.3.0.2']);
      const reloaded = event(r.mirror, 'reload', 10_000, (_rev, reason) => reason === 'compacted');
      link.heal();
      await reloaded;
      expect((await r.ask('gone.c.test', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
      expect(answers(await r.ask('c.test', 'A'))).to.deep.equal(['c.test. 300 IN A 10.3.0.3', 'c.test. 300 IN A 10.3.0.4']);
      const keys = (await client.getAll().prefix(`${path}/`).keys()).sort();
      expect(r.mirror.tree.all().map((s) => s.key).sort()).to.deep.equal(keys);
      // And it watches again afterwards.
      const changed = event(r.mirror, 'change', 1000);
      await put('after.c.test', { host: '10.3.0.5' }, path);
      await changed;
      expect(answers(await r.ask('after.c.test', 'A'))).to.deep.equal(['after.c.test. 300 IN A 10.3.0.5']);
    } finally {
      await r.close();
      await link.close();
    }
  });

  it('keeps answering while etcd is stopped, then catches up after a restart', async () => {
    const path = '/restart';
    await put('a.r.test', { host: '10.4.0.1' }, path);
    const r = await replica(etcd.endpoint, path, ['r.test']);
    try {
      const lost = event(r.mirror, 'disconnected', 5000);
      await etcd.stop();
      await lost;
      expect(answers(await r.ask('a.r.test', 'A'))).to.deep.equal(['a.r.test. 300 IN A 10.4.0.1']);
      expect(r.mirror.synced).to.equal(true);
      const back = event(r.mirror, 'connected', 15_000);
      await etcd.restart();
      await back;
      const changed = event(r.mirror, 'change', 1000);
      await put('b.r.test', { host: '10.4.0.2' }, path);
      await changed;
      expect(answers(await r.ask('r.test', 'A'))).to.deep.equal(['r.test. 300 IN A 10.4.0.1', 'r.test. 300 IN A 10.4.0.2']);
    } finally {
      await r.close();
      if (etcd.pid === undefined) await etcd.restart();
    }
  });

  it('starts while etcd is down: SERVFAIL and not synced, then loads when etcd comes up', async () => {
    const path = '/late';
    await put('a.late.test', { host: '10.6.0.1' }, path);
    await etcd.stop();
    const lateClient = createClient({ endpoints: [etcd.endpoint] });
    const mirror = new EtcdMirror(lateClient, { path, logger: memoryLogger(), backoffCapMs: 200 });
    const handler = new EtcdHandler(['late.test'], undefined, mirror);
    try {
      mirror.start();
      const t0 = performance.now();
      expect(await mirror.waitSynced(5000)).to.equal(false);
      expect(performance.now() - t0, 'gives up waiting at the first refused read').to.be.below(2000);
      const req = makeRequest('a.late.test', 'A');
      expect(() => handler.serve(req, stubNext(req))).to.throw(/not loaded/);
      const loaded = event(mirror, 'reload', 15_000);
      await etcd.restart();
      await loaded;
      expect(answers(messageOf(await handler.serve(req, stubNext(req))))).to.deep.equal(['a.late.test. 300 IN A 10.6.0.1']);
    } finally {
      await mirror.close();
      lateClient.close();
      if (etcd.pid === undefined) await etcd.restart();
    }
  });

  it('serves dig through a server whose Corefile has only the etcd plugin', async () => {
    const path = '/sock';
    await put('www.sock.test', { host: '10.5.0.1' }, path);
    await put('x.svc.sock.test', { host: 'www.sock.test', port: 443 }, path);
    const server = await startServer(`sock.test {\n  etcd {\n    path ${path}\n    endpoint ${etcd.endpoint}\n  }\n}\n`);
    try {
      expect((await server.dig(['+short', 'www.sock.test', 'A'])).trim()).to.equal('10.5.0.1');
      expect((await server.dig(['+short', 'svc.sock.test', 'SRV'])).trim()).to.equal('10 100 443 www.sock.test.');
      const tcp = await server.query('www.sock.test', 'A', { transport: 'tcp' });
      expect(tcp.aa).to.equal(true);
      expect(answers(tcp)).to.deep.equal(['www.sock.test. 300 IN A 10.5.0.1']);
      expect(await server.dig(['nope.sock.test', 'A'])).to.match(/status: NXDOMAIN/);
      // A change is served within 1 s (polled over the socket: the mirror is inside the server).
      await put('www.sock.test', { host: '10.5.0.2' }, path);
      const deadline = performance.now() + 1000;
      let got = '';
      while (performance.now() < deadline && got !== '10.5.0.2') {
        got = (await server.dig(['+short', 'www.sock.test', 'A'])).trim();
      }
      expect(got).to.equal('10.5.0.2');
    } finally {
      await server.close();
    }
  });

  it('carries an unchanged source across a reload without a new get, and serves its changes after', async () => {
    const path = '/carried';
    await put('www.carry.test', { host: '10.6.0.1' }, path);
    const block = (extra: string) => `carry.test {\n${extra}  etcd {\n    path ${path}\n    endpoint ${etcd.endpoint}\n  }\n}\n`;
    const server = await startServer(block(''));
    const loads = () => server.logs.filter((l) => l.includes(`keys under ${path}/`)).length;
    try {
      expect(answers(await server.query('www.carry.test', 'A'))).to.deep.equal(['www.carry.test. 300 IN A 10.6.0.1']);
      expect(loads()).to.equal(1);
      const { loadConfigText } = await import('../../core/config/load.js');
      const { createRegistry } = await import('../../core/create.js');
      const config = (text: string) => loadConfigText(text, 'Corefile', { registry: createRegistry(), env: {}, defaultPort: 0, configDir: process.cwd() });
      await server.server.reload(config(block('  errors\n')));
      expect(loads()).to.equal(1);
      expect(answers(await server.query('www.carry.test', 'A'))).to.deep.equal(['www.carry.test. 300 IN A 10.6.0.1']);
      // The old generation closed; the shared mirror still watches.
      await put('www.carry.test', { host: '10.6.0.2' }, path);
      const deadline = performance.now() + 2000;
      while (performance.now() < deadline && answers(await server.query('www.carry.test', 'A'))[0] !== 'www.carry.test. 300 IN A 10.6.0.2') await new Promise((r) => setTimeout(r, 20));
      expect(answers(await server.query('www.carry.test', 'A'))).to.deep.equal(['www.carry.test. 300 IN A 10.6.0.2']);
      // Another PATH is another source: it is read.
      await server.server.reload(config(block('').replace(`path ${path}`, 'path /elsewhere')));
      expect(server.logs.filter((l) => l.includes('keys under /elsewhere/')).length).to.equal(1);
    } finally {
      await server.close();
    }
  });
});
