// examples/kubernetes/nodelocal: its Corefile served as written, on two loopback addresses standing in for the
// link-local 169.254.20.10 and the kube-dns address (127.0.0.1 and 127.0.0.2), forwarding over TCP to a
// cluster-DNS stand-in that does not listen on UDP at all, so only `force_tcp` can reach it.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseAllDocuments } from 'yaml';
import { decodeMessage, makeReply } from '../core/message.js';
import { dig, freePort, queryServer, rrText, startServer, type TestServer } from '../core/testing.js';
import { encodeMessage } from '../core/wire.js';

const dir = new URL('../examples/kubernetes/nodelocal/', import.meta.url);
const COREFILE = readFileSync(new URL('Corefile', dir), 'utf8');

const sockets = new Set<net.Socket>();

/** A DNS-over-TCP-only server: web.prod.svc.cluster.local A 10.96.0.7, NXDOMAIN otherwise; counts what it gets. */
async function tcpClusterDns(): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        const name = q.question[0]!.name.toLowerCase().replace(/\.$/, '');
        queries.push(`${name} ${q.question[0]!.type}`);
        const found = name === 'web.prod.svc.cluster.local' && q.question[0]!.type === 'A';
        const reply = makeReply(q, found ? { aa: true, answer: [{ name: q.question[0]!.name, ttl: 30, type: 'A', data: '10.96.0.7' }] } : {
          aa: true, rcode: 3,
          // As the cluster DNS answers: the zone's SOA makes the denial cacheable (RFC 2308).
          authority: [{ name: 'cluster.local', ttl: 5, type: 'SOA', data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } }],
        });
        const wire = encodeMessage(reply);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(wire.length);
        sock.write(Buffer.concat([len, wire]));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port, queries,
    close: () => new Promise((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
    }),
  };
}

describe('examples/kubernetes/nodelocal: the node-local cache Corefile', function () {
  this.timeout(20_000);
  let upstream: Awaited<ReturnType<typeof tcpClusterDns>>;
  let server: TestServer;
  let port: number;

  before(async () => {
    upstream = await tcpClusterDns();
    port = await freePort();
    const [health, metrics] = [await freePort(), await freePort()];
    // The Corefile as shipped; only the ports are moved off 53, 8080 and 9253.
    const corefile = COREFILE.replace('.:53 {', `.:${port} {`).replace(':8080', `:${health}`).replace(':9253', `:${metrics}`);
    server = await startServer(corefile, {
      env: { LOCAL_DNS: '127.0.0.1', KUBE_DNS_IP: '127.0.0.2', KUBE_DNS_UPSTREAM_SERVICE_HOST: `127.0.0.1:${upstream.port}` },
    });
  });

  after(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('the ConfigMap carries the same Corefile', () => {
    const cm = parseAllDocuments(readFileSync(new URL('configmap.yaml', dir), 'utf8'))[0]!.toJS() as { data: { Corefile: string } };
    expect(cm.data.Corefile).to.equal(COREFILE);
  });

  it('serves on both bound addresses, and on no other', () => {
    expect([...new Set(server.server.addresses().map((a) => `${a.address}:${a.port}`))].sort()).to.deep.equal([`127.0.0.1:${port}`, `127.0.0.2:${port}`]);
  });

  it('a UDP query on the link-local stand-in is forwarded over TCP (the upstream has no UDP socket)', async () => {
    const m = await queryServer('127.0.0.1', port, 'web.prod.svc.cluster.local', 'A');
    expect(m.answer.map(rrText)).to.deep.equal(['web.prod.svc.cluster.local. 30 IN A 10.96.0.7']);
    expect(upstream.queries.filter((q) => q === 'web.prod.svc.cluster.local A')).to.have.length(1);
  });

  it('the kube-dns address answers from the same cache: no second upstream query', async () => {
    const out = await dig('127.0.0.2', port, ['web.prod.svc.cluster.local', 'A', '+noall', '+answer']);
    expect(out.trim().split(/\s+/).slice(-1)).to.deep.equal(['10.96.0.7']);
    expect(upstream.queries.filter((q) => q === 'web.prod.svc.cluster.local A')).to.have.length(1);
  });

  it('an NXDOMAIN from the cluster DNS is passed on and cached (denial)', async () => {
    expect((await queryServer('127.0.0.2', port, 'nothere.prod.svc.cluster.local', 'A')).rcode).to.equal(3);
    expect((await queryServer('127.0.0.1', port, 'nothere.prod.svc.cluster.local', 'A')).rcode).to.equal(3);
    expect(upstream.queries.filter((q) => q === 'nothere.prod.svc.cluster.local A')).to.have.length(1);
  });
});
