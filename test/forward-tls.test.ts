// forward to a real DNS-over-TLS upstream: Debian's unbound with the test's certificate, through a
// TCP relay that counts the connections (each one a TLS handshake) that reach it.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Rcode } from '../core/message.js';
import { startServer, type TestServer } from '../core/testing.js';
import { makeCertificates, type TestCertificates } from './fixtures/certificates.js';
import { answerBytes, readQuestion } from './fixtures/hostile-upstream.js';
import { startUnbound, type Unbound } from './fixtures/unbound.js';

/** A TCP relay to `port` that counts the connections made through it. */
async function countingRelay(port: number): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const relay = {
    port: 0,
    connections: 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer((client) => {
    relay.connections++;
    const upstream = net.connect({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}

describe('forward over TLS to a real unbound', function () {
  this.timeout(30_000);
  let certs: TestCertificates;
  let first: Unbound;
  let second: Unbound;
  let server: TestServer | undefined;
  before(async () => {
    certs = makeCertificates('dot.nodens.test');
    const tls = { dir: certs.dir, cert: certs.cert, key: certs.key };
    first = await startUnbound({ ...tls, data: ['www.example.test. 300 IN A 10.9.8.7'] });
    second = await startUnbound({ ...tls, data: ['www.example.test. 300 IN A 10.9.8.8'] });
  });
  after(async () => {
    await first?.stop();
    await second?.stop();
    certs?.remove();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (!first.running) await first.start();
  });

  it('answers through one reused, pipelined TLS connection (one handshake for 40 queries)', async () => {
    const relay = await countingRelay(first.port);
    try {
      server = await startServer(`. {\n forward . tls://127.0.0.1:${relay.port} {\n tls ${certs.ca}\n tls_servername ${certs.name}\n }\n}\n`);
      const names = Array.from({ length: 20 }, (_, i) => (i % 2 ? 'www.example.test' : 'WWW.example.TEST'));
      const parallel = await Promise.all(names.map((n) => server!.query(n)));
      for (const m of parallel) expect(m.answer[0]).to.include({ type: 'A', data: '10.9.8.7' });
      for (const n of names) expect((await server.query(n, 'A', { transport: 'tcp' })).answer[0]).to.include({ data: '10.9.8.7' });
      expect((await server.query('nx.example.test')).rcode).to.equal(Rcode.NXDOMAIN);
      expect(relay.connections, 'TLS connections made to unbound').to.equal(1);
      expect(await server.dig(['+short', 'www.example.test'])).to.equal('10.9.8.7\n');
    } finally {
      await relay.close();
    }
  });

  it('opens a new connection after `expire`', async () => {
    const relay = await countingRelay(first.port);
    try {
      server = await startServer(`. {\n forward . tls://127.0.0.1:${relay.port} {\n tls ${certs.ca}\n tls_servername ${certs.name}\n expire 200ms\n }\n}\n`);
      expect((await server.query('www.example.test')).answer[0]).to.include({ data: '10.9.8.7' });
      await new Promise((r) => setTimeout(r, 400)); // the expiry itself is what is tested
      expect((await server.query('www.example.test')).answer[0]).to.include({ data: '10.9.8.7' });
      expect(relay.connections).to.equal(2);
    } finally {
      await relay.close();
    }
  });

  it('refuses a certificate for another name, logs it, and answers SERVFAIL', async () => {
    server = await startServer(`. {\n forward . tls://127.0.0.1:${first.port} {\n tls ${certs.ca}\n tls_servername wrong.nodens.test\n }\n}\n`);
    expect((await server.query('www.example.test')).rcode).to.equal(Rcode.SERVFAIL);
    const line = server.logs.find((l) => l.includes('TLS certificate refused'));
    expect(line, server.logs.join('\n')).to.match(/^\[ERROR\] plugin\/forward: 127\.0\.0\.1:\d+: TLS certificate refused: .*wrong\.nodens\.test/);
  });

  it('refuses a certificate from an unknown CA (no `tls CA`: the system CAs)', async () => {
    server = await startServer(`. {\n forward . tls://127.0.0.1:${first.port} {\n tls_servername ${certs.name}\n }\n}\n`);
    expect((await server.query('www.example.test')).rcode).to.equal(Rcode.SERVFAIL);
    expect(server.logs.some((l) => /TLS certificate refused: .*unable to verify/i.test(l)), server.logs.join('\n')).to.equal(true);
  });

  it('fails over when unbound stops, probes it over TLS, and goes back to it when it returns', async () => {
    server = await startServer(`. {\n forward . tls://127.0.0.1:${first.port} tls://127.0.0.1:${second.port} {\n tls ${certs.ca}\n tls_servername ${certs.name}\n policy sequential\n health_check 100ms\n }\n prometheus 127.0.0.1:0\n}\n`);
    expect((await server.query('www.example.test')).answer[0]).to.include({ data: '10.9.8.7' });
    await first.stop();
    expect((await server.query('www.example.test')).answer[0], 'the second upstream').to.include({ data: '10.9.8.8' });
    const failures = async (): Promise<number> => {
      const body = (await server!.server.metrics.scrape()).body;
      const m = new RegExp(`coredns_proxy_healthcheck_failures_total\\{[^}]*to="127\\.0\\.0\\.1:${first.port}"[^}]*\\} (\\d+)`).exec(body);
      return Number(m?.[1] ?? 0);
    };
    for (let i = 0; i < 100 && (await failures()) < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await failures(), 'failed TLS probes of the stopped upstream').to.be.at.least(3);
    await first.start();
    let data = '';
    for (let i = 0; i < 100 && data !== '10.9.8.7'; i++) {
      data = (await server.query('www.example.test')).answer[0]?.data as string;
      if (data !== '10.9.8.7') await new Promise((r) => setTimeout(r, 50));
    }
    expect(data, 'back on the first upstream').to.equal('10.9.8.7');
  });
});

/** A DoT upstream the test controls: each framed query is answered with what `answer` returns (several frames allowed). */
async function hostileDot(c: TestCertificates, answer: (q: Buffer) => Buffer[]): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: readFileSync(c.cert), key: readFileSync(c.key) }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + q.length);
        for (const wire of answer(Buffer.from(q))) {
          const frame = Buffer.alloc(2 + wire.length);
          frame.writeUInt16BE(wire.length, 0);
          wire.copy(frame, 2);
          s.write(frame);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('forward over TLS: every reply is checked as over TCP', function () {
  this.timeout(20_000);
  let certs: TestCertificates;
  before(() => {
    certs = makeCertificates('dot.nodens.test');
  });
  after(() => certs?.remove());

  it('drops a reply with another ID and takes the real one; a malformed reply fails the try and is counted', async () => {
    const up = await hostileDot(certs, (wire) => {
      const q = { wire, id: wire.readUInt16BE(0), port: 0, ...readQuestion(wire) };
      const real = answerBytes(q, '10.7.7.7');
      if (q.name === 'bad.example.test') return [real.subarray(0, real.length - 2)]; // the A record's data cut short
      return [answerBytes(q, '6.6.6.6', { id: (q.id + 1) & 0xffff }), real];
    });
    let server: TestServer | undefined;
    try {
      server = await startServer(`. {\n forward . tls://127.0.0.1:${up.port} {\n tls ${certs.ca}\n tls_servername ${certs.name}\n max_fails 0\n }\n prometheus 127.0.0.1:0\n}\n`);
      expect((await server.query('www.example.test')).answer[0]).to.include({ data: '10.7.7.7' });
      expect((await server.query('bad.example.test')).rcode).to.equal(Rcode.SERVFAIL);
      const body = (await server.server.metrics.scrape()).body;
      expect(body).to.match(new RegExp(`coredns_forward_dropped_replies_total\\{to="127\\.0\\.0\\.1:${up.port}"\\} 1`));
      expect(body).to.match(new RegExp(`coredns_forward_malformed_replies_total\\{to="127\\.0\\.0\\.1:${up.port}"\\} [1-9]`));
    } finally {
      await server?.close();
      await up.close();
    }
  });
});
