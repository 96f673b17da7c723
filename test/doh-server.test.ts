// DNS over HTTPS (RFC 8484) at the HTTP level: statuses for bad requests, HTTP/1.1 and HTTP/2,
// the stream bound of one HTTP/2 connection, and a server that keeps serving through all of them.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { minTtl } from '../core/https-listener.js';
import { decodeMessage, makeQuery, Rcode } from '../core/message.js';
import { startServer, type TestServer } from '../core/testing.js';
import { encodeMessage } from '../core/wire.js';
import { makeCertificates, type TestCertificates } from './fixtures/certificates.js';

interface Got {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function h2request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let got: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (got = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(got[':status']), headers: got, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

const query = (name: string): Buffer => Buffer.from(encodeMessage(makeQuery(name, 'A', { id: 0 })));

describe('https:// server blocks (DNS over HTTPS)', function () {
  this.timeout(30_000);
  let certs: TestCertificates;
  let server: TestServer;
  let port: number;
  let client: http2.ClientHttp2Session;
  const connect = (): http2.ClientHttp2Session => http2.connect(`https://127.0.0.1:${port}`, { ca: readFileSync(certs.ca), servername: certs.name });
  before(async () => {
    certs = makeCertificates();
    server = await startServer(`https://.:0 {\n tls ${certs.cert} ${certs.key}\n hosts {\n 10.0.0.1 a.example.test\n ttl 120\n }\n}\n`);
    port = server.server.addresses()[0]!.port;
    client = connect();
  });
  after(async () => {
    client?.close();
    await server?.close();
    certs?.remove();
  });

  const ok = query('a.example.test');
  const rows: { name: string; headers: http2.OutgoingHttpHeaders; body?: Buffer; status: number }[] = [
    { name: 'GET ?dns=', headers: { ':method': 'GET', ':path': `/dns-query?dns=${ok.toString('base64url')}` }, status: 200 },
    { name: 'GET with other parameters first', headers: { ':method': 'GET', ':path': `/dns-query?ct=x&dns=${ok.toString('base64url')}` }, status: 200 },
    { name: 'POST application/dns-message', headers: { ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message' }, body: ok, status: 200 },
    { name: 'GET without dns', headers: { ':method': 'GET', ':path': '/dns-query' }, status: 400 },
    { name: 'GET with dns that is not base64url', headers: { ':method': 'GET', ':path': '/dns-query?dns=AAAA%2B%2F' }, status: 400 },
    { name: 'GET with dns too short for a header', headers: { ':method': 'GET', ':path': '/dns-query?dns=AAAA' }, status: 400 },
    { name: 'GET with a huge dns', headers: { ':method': 'GET', ':path': `/dns-query?dns=${'A'.repeat(9000)}` }, status: 414 },
    { name: 'GET with a response instead of a query (dropped: 400)', headers: { ':method': 'GET', ':path': `/dns-query?dns=${Buffer.alloc(40, 0xff).toString('base64url')}` }, status: 400 },
    { name: 'GET with a garbage question (FORMERR)', headers: { ':method': 'GET', ':path': `/dns-query?dns=${Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.alloc(20, 0xff)]).toString('base64url')}` }, status: 200 },
    { name: 'POST text/plain', headers: { ':method': 'POST', ':path': '/dns-query', 'content-type': 'text/plain' }, body: ok, status: 415 },
    { name: 'POST without a content type', headers: { ':method': 'POST', ':path': '/dns-query' }, body: ok, status: 415 },
    { name: 'POST of 70,000 bytes', headers: { ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message' }, body: Buffer.alloc(70_000), status: 413 },
    { name: 'PUT', headers: { ':method': 'PUT', ':path': '/dns-query' }, body: ok, status: 405 },
    { name: 'another path', headers: { ':method': 'GET', ':path': `/resolve?dns=${ok.toString('base64url')}` }, status: 404 },
  ];
  for (const r of rows) {
    it(`${r.name}: ${r.status}`, async () => {
      const got = await h2request(client, r.headers, r.body);
      expect(got.status).to.equal(r.status);
      if (r.status === 405) expect(got.headers.allow).to.equal('GET, POST');
      if (r.status !== 200) return;
      expect(got.headers['content-type']).to.equal('application/dns-message');
      const m = decodeMessage(got.body);
      if (r.name.includes('FORMERR')) return void expect(m.rcode).to.equal(Rcode.FORMERR);
      expect(m.answer[0]).to.include({ data: '10.0.0.1' });
      expect(got.headers['cache-control'], 'RFC 8484 §5.1: the answer TTL').to.equal('max-age=120');
    });
  }

  it('answers HTTP/1.1 clients on the same port (allowHTTP1)', async () => {
    const got = await new Promise<{ status: number; body: Buffer; version: string }>((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1', port, path: `/dns-query?dns=${ok.toString('base64url')}`, ca: readFileSync(certs.ca), servername: certs.name,
        headers: { accept: 'application/dns-message' }, agent: false,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), version: res.httpVersion }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(got.version).to.equal('1.1');
    expect(got.status).to.equal(200);
    expect(decodeMessage(got.body).answer[0]).to.include({ data: '10.0.0.1' });
  });

  it('bounds the streams of one HTTP/2 connection at 100 and keeps serving others', async () => {
    const greedy = connect();
    try {
      await new Promise<void>((r) => greedy.once('remoteSettings', () => r()));
      expect(greedy.remoteSettings.maxConcurrentStreams).to.equal(100);
      // Past the advertised bound Node's client queues the streams: all 300 are answered, 100 at a time.
      const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => h2request(greedy, {
        ':method': 'GET', ':path': `/dns-query?dns=${query(`n${i}.a.example.test`).toString('base64url')}`,
      })));
      const answered = results.filter((r) => r.status === 'fulfilled' && r.value.status === 200).length;
      expect(answered + results.filter((r) => r.status === 'rejected').length).to.equal(300);
      expect(answered).to.be.at.least(100);
      expect((await h2request(client, rows[0]!.headers)).status, 'another connection').to.equal(200);
    } finally {
      greedy.destroy();
    }
  });

  it('releases 500 streams that clients drop mid-flight, and answers the next client', async () => {
    // Node's client never exceeds the peer's bound (nghttp2 on the server refuses streams past it), so open
    // the streams over several sessions at once and drop them all before they finish.
    const sessions = Array.from({ length: 5 }, () => connect());
    const pending = sessions.flatMap((s) => Array.from({ length: 100 }, () => h2request(s, { ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message' }, Buffer.alloc(0)).catch(() => undefined)));
    for (const s of sessions) s.destroy();
    await Promise.all(pending);
    expect((await h2request(client, rows[0]!.headers)).status).to.equal(200);
  });
});

describe('minTtl', () => {
  const rows: { name: string; wire: Buffer; want: number }[] = [
    { name: 'no records', wire: query('a.example.test'), want: 0 },
    { name: 'truncated garbage', wire: Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 3]), want: 0 },
  ];
  for (const r of rows) it(r.name, () => expect(minTtl(r.wire)).to.equal(r.want));
});
