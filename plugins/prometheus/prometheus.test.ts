import { expect } from 'chai';
import { makeReply } from '../../core/message.js';
import type { Done, PluginInstance } from '../../core/plugin.js';
import { makeRequest, stubNext } from '../../core/testing.js';
import { testEnv } from '../pkg/test-env.js';
import { dnsVectors, SeriesCache } from './dns-metrics.js';
import type { Prometheus } from './prometheus.js';
import { setup } from './setup.js';

function done(over: Partial<Done> = {}): Done {
  return { reply: undefined, rcode: 0, size: 60, truncated: false, durationMs: 3, plugin: 'hosts', ...over };
}

describe('prometheus handler', () => {
  const open: Prometheus[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
  });

  function make(instances: PluginInstance[] = []) {
    const env = testEnv({ plugin: 'prometheus', zones: ['example.org', ''], instances: () => instances, listen: [{ address: '::', port: 1053, transport: 'udp' }] });
    const p = setup({ address: '127.0.0.1:0' }, env) as Prometheus;
    open.push(p);
    const text = () => env.metrics.registry.metrics();
    return { p, env, text };
  }

  it('counts requests by server, zone, proto, family and type, and passes the query on', async () => {
    const { p, text } = make();
    const cases = [
      { name: 'www.example.org', type: 'A', opts: { zone: 'example.org' } },
      { name: 'www.example.org', type: 'A', opts: { zone: 'example.org' } },
      { name: 'x.test', type: 'AAAA', opts: { transport: 'tcp' as const, clientAddress: '::1' } },
      { name: 'x.test', type: 'NAPTR', opts: {} },
      { name: 'x.test', type: 'HTTPS', opts: { do: true } },
    ];
    for (const c of cases) {
      const req = makeRequest(c.name, c.type, c.opts);
      const next = stubNext(req);
      const reply = await p.serve(req, next);
      expect(next.calls).to.equal(1);
      expect(reply).to.deep.include({ rcode: 3 });
    }
    const t = await text();
    expect(t).to.contain('coredns_dns_requests_total{server="dns://:53",zone="example.org.",view="",proto="udp",family="1",type="A"} 2');
    expect(t).to.contain('coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="tcp",family="2",type="AAAA"} 1');
    expect(t).to.contain('coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="udp",family="1",type="other"} 1');
    expect(t).to.contain('coredns_dns_requests_total{server="dns://:53",zone=".",view="",proto="udp",family="1",type="HTTPS"} 1');
    expect(t).to.contain('coredns_dns_do_requests_total{server="dns://:53",zone=".",view=""} 1');
    expect(t).to.contain('coredns_dns_request_size_bytes_count{server="dns://:53",zone="example.org.",view="",proto="udp"} 2');
    expect(t).to.contain('coredns_dns_request_size_bytes_bucket{server="dns://:53",zone="example.org.",view="",proto="udp",le="0"} 0');
    expect(t).to.contain('coredns_dns_request_size_bytes_bucket{server="dns://:53",zone="example.org.",view="",proto="udp",le="100"} 2');
    expect(t, 'nothing about responses before they are sent').not.to.contain('coredns_dns_responses_total{');
  });

  it('counts the reply once it is sent: rcode, plugin, duration, size', async () => {
    const { p, text } = make();
    const sent = [
      done({ rcode: 0, plugin: 'hosts', durationMs: 0.1, size: 90 }),
      done({ rcode: 3, plugin: 'kubernetes', durationMs: 20, size: 150 }),
      done({ rcode: 2, plugin: undefined, durationMs: 5000, size: 40 }),
      done({ rcode: 3, plugin: 'kubernetes', durationMs: 1, size: 1200 }),
    ];
    for (const d of sent) {
      const req = makeRequest('svc.cluster.local', 'A', { zone: 'cluster.local' });
      await p.serve(req, stubNext(req, makeReply(req.query)));
      req.finish(d);
    }
    const t = await text();
    const l = 'server="dns://:53",zone="cluster.local.",view=""';
    expect(t).to.contain(`coredns_dns_responses_total{${l},rcode="NOERROR",plugin="hosts"} 1`);
    expect(t).to.contain(`coredns_dns_responses_total{${l},rcode="NXDOMAIN",plugin="kubernetes"} 2`);
    expect(t).to.contain(`coredns_dns_responses_total{${l},rcode="SERVFAIL",plugin=""} 1`);
    // Only the rcodes seen, as CoreDNS exports them: no zero series for the others.
    expect(t.match(/^coredns_dns_responses_total\{/gm)).to.have.length(3);
    expect(t).to.contain(`coredns_dns_request_duration_seconds_bucket{${l},type="A",le="0.00025"} 1`);
    expect(t).to.contain(`coredns_dns_request_duration_seconds_bucket{${l},type="A",le="0.032"} 3`);
    expect(t).to.contain(`coredns_dns_request_duration_seconds_bucket{${l},type="A",le="4.096"} 3`);
    expect(t).to.contain(`coredns_dns_request_duration_seconds_bucket{${l},type="A",le="8.192"} 4`);
    expect(t).to.contain(`coredns_dns_request_duration_seconds_count{${l},type="A"} 4`);
    expect(t).to.contain(`coredns_dns_response_size_bytes_bucket{${l},proto="udp",le="100"} 2`);
    expect(t).to.contain(`coredns_dns_response_size_bytes_bucket{${l},proto="udp",le="1023"} 3`);
    expect(t).to.contain(`coredns_dns_response_size_bytes_sum{${l},proto="udp"} 1480`);
  });

  it('counts an extended rcode past the common ones, and carries a series across a new instance (a reload)', async () => {
    const { p, text, env } = make();
    const another = (): Prometheus => {
      const q = setup({ address: '127.0.0.1:0' }, env) as Prometheus;
      open.push(q);
      return q;
    };
    const count = async (plugin: Prometheus, rcode: number): Promise<void> => {
      const req = makeRequest('svc.cluster.local', 'A', { zone: 'cluster.local' });
      await plugin.serve(req, stubNext(req, makeReply(req.query)));
      req.finish(done({ rcode, plugin: 'hosts', durationMs: 1, size: 90 }));
    };
    await count(p, 30);
    await count(p, 30);
    await count(another(), 30);
    await count(another(), 0);
    const t = await text();
    const l = 'server="dns://:53",zone="cluster.local.",view=""';
    expect(t).to.contain(`coredns_dns_responses_total{${l},rcode="30",plugin="hosts"} 3`);
    expect(t).to.contain(`coredns_dns_responses_total{${l},rcode="NOERROR",plugin="hosts"} 1`);
    expect(t).to.contain(`coredns_dns_requests_total{${l},proto="udp",family="1",type="A"} 4`);
    // The instances share their series: a reload attaches no new slots to the vectors.
    expect(SeriesCache.of(dnsVectors(env.metrics.registry))).to.equal(SeriesCache.of(dnsVectors(env.metrics.registry)));
  });

  it('passes a throwing chain through unchanged', async () => {
    const { p } = make();
    const req = makeRequest('x.test', 'A');
    const boom = new Error('boom');
    let caught: unknown;
    try {
      await p.serve(req, () => Promise.reject(boom));
    } catch (err) {
      caught = err;
    }
    expect(caught).to.equal(boom);
  });

  it('serves /metrics with build info and the plugins enabled in its block', async () => {
    const zones = ['example.org', ''];
    const serve = { serve: () => makeReply(makeRequest('a', 'A').query) };
    const { p, env } = make([
      { name: 'prometheus', zones, handler: serve },
      { name: 'health', zones, handler: {} },
      { name: 'forward', zones, handler: serve },
      { name: 'hosts', zones: ['other.org'], handler: serve },
    ]);
    await env.startup();
    const res = await fetch(`${p.url()}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0.0.4/);
    const t = await res.text();
    expect(t).to.match(/coredns_build_info\{version="\d+\.\d+\.\d+",revision="[^"]*",goversion="[^"]+"\} 1/);
    // goversion carries the running runtime's version, whichever Node runs the suite.
    expect(/goversion="([^"]+)"/.exec(t)?.[1]).to.equal(process.version);
    expect(t).to.contain('# TYPE coredns_panics_total counter');
    for (const name of ['prometheus', 'forward']) {
      expect(t).to.contain(`coredns_plugin_enabled{server="dns://:1053",zone="example.org.",view="",name="${name}"} 1`);
      expect(t).to.contain(`coredns_plugin_enabled{server="dns://:1053",zone=".",view="",name="${name}"} 1`);
    }
    expect(t, 'health adds no DNS step').not.to.contain('name="health"');
    expect(t, 'another block').not.to.contain('name="hosts"');
  });
});
