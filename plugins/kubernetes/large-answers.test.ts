// Large kubernetes answers over real sockets, sized as CoreDNS sizes them: request.Scrub truncates to the
// client's EDNS size over UDP (state.Size()) and to 65535 over TCP, with miekg/dns's Msg.Truncate cutting at
// a record boundary and setting TC when the answer section was cut.
import { expect } from 'chai';
import { startServer, type TestServer } from '../../core/testing.js';
import { FakeApiServer } from '../../test/fixtures/k8s-api-server.js';
import { http80, namespace, service, slice } from '../../test/fixtures/k8s-objects.js';

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

describe('kubernetes: large answers (request.Scrub, miekg/dns Msg.Truncate)', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let server: TestServer;

  before(async () => {
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('big'));
    // 200 addresses: 200 × 16 bytes of compressed A records ≈ 3.2 KB, more than 1232 and less than 4096.
    api.add('services', service('big', 'wide', { ports: http80 }), service('big', 'huge', { ports: http80 }));
    api.add('endpointslices', slice('big', 'wide-1', 'wide', Array.from({ length: 200 }, (_, i) => ({ ip: ip(i + 1) })), http80));
    // 2,600 named endpoints: their SRV records alone are past 64 KB (each ~30 bytes compressed), glue on top.
    for (let s = 0; s < 26; s++) {
      api.add('endpointslices', slice('big', `huge-${s}`, 'huge', Array.from({ length: 100 }, (_, i) => ({ ip: ip(10_000 + s * 100 + i), hostname: `host-${s * 100 + i}` })), http80));
    }
    server = await startServer(`cluster.local {\n  kubernetes {\n    endpoint ${api.url}\n  }\n}\n`);
  });

  after(async () => {
    await server?.close();
    await api?.close();
  });

  const table: { offer: number; tc: boolean; count?: number; maxBytes: number }[] = [
    // state.Size(): the client's offer is the limit, so 4096 takes the whole 200-record answer in one datagram.
    { offer: 4096, tc: false, count: 200, maxBytes: 4096 },
    { offer: 1232, tc: true, maxBytes: 1232 },
    { offer: 512, tc: true, maxBytes: 512 },
  ];
  for (const c of table) {
    it(`UDP with EDNS ${c.offer}: ${c.tc ? 'cut to the offer with TC' : 'the whole answer, no TC'}`, async () => {
      const m = await server.query('wide.big.svc.cluster.local', 'A', { udpSize: c.offer });
      expect(m.tc).to.equal(c.tc);
      if (c.count !== undefined) expect(m.answer).to.have.length(c.count);
      else expect(m.answer.length).to.be.within(1, 199);
      const out = await server.dig(['wide.big.svc.cluster.local', 'A', `+bufsize=${c.offer}`, '+ignore', '+noall', '+comments', '+stats']);
      const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1]);
      expect(size).to.be.within(c.tc ? 400 : 3000, c.maxBytes);
    });
  }

  it('TCP SRV with glue past 64 KB: cut at a record boundary with TC, as Msg.Truncate(65535) does', async () => {
    const m = await server.query('huge.big.svc.cluster.local', 'SRV', { transport: 'tcp' });
    expect(m.tc).to.equal(true);
    expect(m.answer.length).to.be.within(1000, 2599);
    expect(m.answer.every((r) => r.type === 'SRV')).to.equal(true);
    // The answer section was cut, so nothing after it fits: no glue, as miekg fills sections in order.
    expect(m.additional).to.have.length(0);
    const out = await server.dig(['huge.big.svc.cluster.local', 'SRV', '+tcp', '+ignore', '+noall', '+comments', '+stats']);
    expect(out).to.match(/flags: qr aa tc rd;/);
    expect(Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1])).to.be.within(60_000, 65_535);
  });
});
