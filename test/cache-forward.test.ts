// cache in front of forward, in a real server and against real dnsmasq upstreams.
import { expect } from 'chai';
import { Rcode, messageOf, type Reply } from '../core/message.js';
import type { Next } from '../core/plugin.js';
import { makeRequest, startServer, stubNext, type TestServer } from '../core/testing.js';
import { setup as setupCache } from '../plugins/cache/setup.js';
import { parse as parseForward, setup as setupForward } from '../plugins/forward/setup.js';
import { directiveOf, testEnv } from '../plugins/pkg/test-env.js';
import { startDnsmasq, type Dnsmasq } from './fixtures/dnsmasq.js';

const BIG = ['a', 'b', 'c'].map((c) => c.repeat(250));
const dataArgs = (ip: string) => ['--local-ttl=300', `--address=/example.test/${ip}`, '--address=/nx.test/', `--txt-record=big.txt.test,${BIG.join(',')}`];

describe('cache + forward', function () {
  this.timeout(30_000);
  let up: Dnsmasq;
  let server: TestServer | undefined;
  before(async () => {
    up = await startDnsmasq({ args: dataArgs('10.1.2.3'), probe: 'up.example.test' });
  });
  after(async () => {
    await up?.stop();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (!up.running) await up.start();
  });

  it('serves `. { cache 30; forward . dnsmasq }` over UDP, TCP and dig, and answers from the cache once the upstream is gone', async () => {
    server = await startServer(`. {\n cache 30\n forward . 127.0.0.1:${up.port}\n}\n`);
    const udp = await server.query('www.example.test');
    expect(udp.answer[0]).to.include({ type: 'A', data: '10.1.2.3', ttl: 30 });
    const tcp = await server.query('WWW.Example.test', 'A', { transport: 'tcp' });
    expect(tcp.question[0]!.name).to.equal('WWW.Example.test');
    expect(tcp.answer[0]).to.include({ data: '10.1.2.3' });
    expect(tcp.aa, 'a cache hit').to.equal(true);
    expect((await server.query('gone.nx.test')).rcode).to.equal(Rcode.NXDOMAIN);
    expect(await server.dig(['+short', 'dig.example.test'])).to.equal('10.1.2.3\n');
    await up.stop();
    const cached = await server.query('www.example.test');
    expect(cached.answer[0]).to.include({ data: '10.1.2.3' });
    expect(cached.answer[0]!.ttl).to.be.within(28, 30);
    expect((await server.query('uncached.example.test')).rcode).to.equal(Rcode.SERVFAIL);
  });

  it('passes a truncated answer to a UDP client and completes it over TCP', async () => {
    server = await startServer(`. {\n cache 30\n forward . 127.0.0.1:${up.port}\n}\n`);
    const udp = await server.query('big.txt.test', 'TXT');
    expect(udp.tc).to.equal(true);
    const tcp = await server.query('big.txt.test', 'TXT', { transport: 'tcp' });
    expect(tcp.tc).to.equal(false);
    expect(tcp.answer[0]).to.deep.include({ data: BIG });
    const edns = await server.query('big.txt.test', 'TXT', { udpSize: 1232 });
    expect(edns.tc).to.equal(false);
    expect(edns.answer[0]).to.deep.include({ data: BIG });
  });

  it('prefer_udp: a TCP client is answered whole through UDP then TCP upstream', async () => {
    server = await startServer(`. {\n forward . 127.0.0.1:${up.port} {\n prefer_udp\n }\n}\n`);
    const tcp = await server.query('big.txt.test', 'TXT', { transport: 'tcp' });
    expect(tcp.tc).to.equal(false);
    expect(tcp.answer[0]).to.deep.include({ data: BIG });
  });

  it('serve_stale answers an expired entry when every upstream is down (handler chain, fake clock)', async () => {
    const clock = { t: 1_700_000_000_000 };
    const env = testEnv({ plugin: 'cache' });
    const cache = setupCache({ ttl: 10, serve_stale: { duration: '1h' } }, env, () => clock.t);
    const forward = setupForward(parseForward(directiveOf(`forward . 127.0.0.1:${up.port} {\n health_check 50ms\n}`), { zones: [''], configDir: '.' }), testEnv({ plugin: 'forward' }));
    try {
      const ask = async (name: string): Promise<ReturnType<typeof messageOf>> => {
        const req = makeRequest(name);
        const next: Next = () => forward.serve(req, stubNext(req));
        const reply: Reply = await cache.serve(req, next);
        return messageOf(reply);
      };
      expect((await ask('stale.example.test')).answer[0]).to.include({ data: '10.1.2.3', ttl: 10 });
      await up.stop();
      clock.t += 60_000;
      const stale = await ask('stale.example.test');
      expect(stale.answer[0]).to.include({ data: '10.1.2.3', ttl: 0 });
      const err = await ask('never.example.test').catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
    } finally {
      forward.close();
    }
  });
});
