// health, ready and prometheus in a running server: real DNS queries move the counters.
import { expect } from 'chai';
import { startServer, type TestServer } from '../../core/testing.js';
import { freePort } from '../pkg/test-env.js';

describe('prometheus, health and ready over sockets', () => {
  let ts: TestServer | undefined;
  const ports = { metrics: 0, health: 0, ready: 0 };
  before(async () => {
    ports.metrics = await freePort();
    ports.health = await freePort();
    ports.ready = await freePort();
    ts = await startServer(
      `example.org {\n    prometheus 127.0.0.1:${ports.metrics}\n    health 127.0.0.1:${ports.health}\n    ready 127.0.0.1:${ports.ready}\n` +
        `    hosts {\n        10.0.0.1 www.example.org\n    }\n}\n`,
    );
  });
  after(async () => {
    await ts?.close();
  });

  it('serves /health and /ready', async () => {
    const h = await fetch(`http://127.0.0.1:${ports.health}/health`);
    expect([h.status, await h.text()]).to.deep.equal([200, 'OK']);
    const r = await fetch(`http://127.0.0.1:${ports.ready}/ready`);
    expect([r.status, await r.text()]).to.deep.equal([200, 'OK']);
  });

  it('counts queries and responses by server, zone, type, rcode and plugin', async () => {
    const answer = await ts!.query('www.example.org', 'A');
    expect(answer.answer.map((a) => a.data)).to.deep.equal(['10.0.0.1']);
    await ts!.query('www.example.org', 'A', { transport: 'tcp' });
    await ts!.query('nope.example.org', 'MX');
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const l = `server="dns://:${ts!.port}",zone="example.org.",view=""`;
    expect(text).to.contain(`coredns_dns_requests_total{${l},proto="udp",family="1",type="A"} 1`);
    expect(text).to.contain(`coredns_dns_requests_total{${l},proto="tcp",family="1",type="A"} 1`);
    expect(text).to.contain(`coredns_dns_requests_total{${l},proto="udp",family="1",type="MX"} 1`);
    expect(text).to.match(new RegExp(`coredns_dns_responses_total\\{${l.replace(/[./]/g, '\\$&')},rcode="NOERROR",plugin="hosts"\\} 2`));
    // hosts answers SERVFAIL for a name it lacks without fallthrough, as CoreDNS's does.
    expect(text).to.match(/coredns_dns_responses_total\{[^}]*rcode="SERVFAIL",plugin="hosts"\} 1/);
    expect(text).to.contain(`coredns_dns_request_duration_seconds_count{${l},type="A"} 2`);
    expect(text).to.contain(`coredns_plugin_enabled{server="dns://:${ts!.port}",zone="example.org.",view="",name="hosts"} 1`);
    expect(text).to.contain(`coredns_plugin_enabled{server="dns://:${ts!.port}",zone="example.org.",view="",name="prometheus"} 1`);
  });
});
