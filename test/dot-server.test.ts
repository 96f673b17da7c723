// tls:// and https:// server blocks against real clients (dig +tls/+https from bind9-dnsutils, kdig from
// knot-dnsutils) and the DNS-over-TLS limits: stalled handshakes, connection bound, pipelining, rotation.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/config/errors.js';
import { loadConfigText } from '../core/config/load.js';
import { createRegistry } from '../core/create.js';
import { decodeMessage, makeQuery, Rcode } from '../core/message.js';
import { startServer, type StartServerOptions, type TestServer } from '../core/testing.js';
import { encodeMessage } from '../core/wire.js';
import { makeCertificates, type TestCertificates } from './fixtures/certificates.js';

const MANIFESTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../examples/demo/cluster.yaml');

const corefile = (c: TestCertificates): string => `tls://.:0 https://.:0 {
  tls ${c.cert} ${c.key}
  hosts {
    10.0.0.1 a.example.test
  }
  prometheus 127.0.0.1:0
  log
}
tls://cluster.local:0 https://cluster.local:0 {
  tls ${c.cert} ${c.key}
  kubernetes cluster.local {
    manifests ${MANIFESTS}
  }
}
`;

function run(tool: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout: 10_000 }, (err, stdout, stderr) => (err && !stdout ? reject(new Error(`${tool}: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
}

interface Encrypted {
  server: TestServer;
  tls: number;
  https: number;
}

async function start(c: TestCertificates, opts: StartServerOptions = {}): Promise<Encrypted> {
  const server = await startServer(corefile(c), opts);
  const port = (scheme: string): number => server.server.addresses().find((a) => a.scheme === scheme)!.port;
  return { server, tls: port('tls'), https: port('https') };
}

/** A verified DoT connection to the test server. */
function dotConnect(c: TestCertificates, port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(c.ca), servername: c.name, ALPNProtocols: ['dot'] }, () => resolve(s));
    s.once('error', reject);
  });
}

const frame = (name: string, id: number): Buffer => {
  const wire = encodeMessage(makeQuery(name, 'A', { id }));
  const out = Buffer.alloc(2 + wire.length);
  out.writeUInt16BE(wire.length, 0);
  out.set(wire, 2);
  return out;
};

/** Reads `n` framed messages from a stream. */
function readFrames(s: net.Socket, n: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= n) resolve(out);
    });
    s.once('error', reject);
    s.once('close', () => reject(new Error(`closed after ${out.length} of ${n} answers`)));
  });
}

const closed = (s: net.Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

describe('tls:// and https:// server blocks', function () {
  this.timeout(30_000);
  let certs: TestCertificates;
  let srv: Encrypted | undefined;
  before(() => {
    certs = makeCertificates();
  });
  after(() => certs?.remove());
  afterEach(async () => {
    await srv?.server.close();
    srv = undefined;
  });

  describe('real clients', () => {
    // One server for the group (the outer afterEach closes only `srv`).
    let shared: Encrypted | undefined;
    before(async () => {
      shared = await start(certs);
    });
    after(async () => {
      await shared?.server.close();
    });

    const rows: { client: string; tool: string; args: (e: Encrypted) => string[]; name: string; want: string }[] = [];
    for (const [name, want] of [['a.example.test', '10.0.0.1'], ['db.default.svc.cluster.local', '192.168.20.3']] as const) {
      rows.push(
        { client: 'dig +tls', tool: 'dig', args: (e) => ['-p', String(e.tls), '+tls'], name, want },
        { client: 'dig +https (POST)', tool: 'dig', args: (e) => ['-p', String(e.https), '+https'], name, want },
        { client: 'dig +https-get', tool: 'dig', args: (e) => ['-p', String(e.https), '+https-get'], name, want },
        { client: 'dig +https-post', tool: 'dig', args: (e) => ['-p', String(e.https), '+https-post'], name, want },
        { client: 'kdig +tls (verified: +tls-ca +tls-hostname)', tool: 'kdig', args: (e) => ['-p', String(e.tls), `+tls-ca=${certs.ca}`, `+tls-hostname=${certs.name}`], name, want },
        { client: 'kdig +https', tool: 'kdig', args: (e) => ['-p', String(e.https), `+https`, `+tls-ca=${certs.ca}`, `+tls-hostname=${certs.name}`], name, want },
      );
    }
    for (const r of rows) {
      it(`${r.client} gets ${r.name}`, async () => {
        const timeout = r.tool === 'kdig' ? ['+timeout=3', '+retry=0'] : ['+time=3', '+tries=1'];
        const out = await run(r.tool, ['@127.0.0.1', ...r.args(shared!), '+short', ...timeout, r.name]);
        expect(out.trim()).to.equal(r.want);
      });
    }

    it('dig +tls gets NXDOMAIN from the kubernetes block, and REFUSED-free routing by zone', async () => {
      const out = await run('dig', ['@127.0.0.1', '-p', String(shared!.tls), '+tls', '+time=3', '+tries=1', 'nope.default.svc.cluster.local']);
      expect(out).to.match(/status: NXDOMAIN/);
    });

    it('labels metrics with the transport (server="tls://:PORT", "https://:PORT") and logs proto tcp, as CoreDNS', async () => {
      await run('dig', ['@127.0.0.1', '-p', String(shared!.tls), '+tls', '+short', 'a.example.test']);
      await run('dig', ['@127.0.0.1', '-p', String(shared!.https), '+https', '+short', 'a.example.test']);
      const body = (await shared!.server.server.metrics.scrape()).body;
      expect(body).to.match(new RegExp(`coredns_dns_requests_total\\{[^}]*server="tls://:${shared!.tls}"[^}]*proto="tcp"`));
      expect(body).to.match(new RegExp(`coredns_dns_requests_total\\{[^}]*server="https://:${shared!.https}"`));
      expect(body).to.match(new RegExp(`coredns_plugin_enabled\\{server="tls://:${shared!.tls}",zone="\\.",[^}]*name="hosts"`));
      expect(shared!.server.logs.some((l) => /"A IN a\.example\.test\. tcp /.test(l)), shared!.server.logs.join('\n')).to.equal(true);
    });

    it('answers pipelined DoT queries sent in one write, each by its ID', async () => {
      const s = await dotConnect(certs, shared!.tls);
      try {
        const answers = readFrames(s, 3);
        s.write(Buffer.concat([frame('a.example.test', 11), frame('db.default.svc.cluster.local', 22), frame('nope.default.svc.cluster.local', 33)]));
        const got = new Map((await answers).map((w) => [decodeMessage(w).id, decodeMessage(w)] as const));
        expect(got.get(11)!.answer[0]).to.include({ data: '10.0.0.1' });
        expect(got.get(22)!.answer[0]).to.include({ data: '192.168.20.3' });
        expect(got.get(33)!.rcode).to.equal(Rcode.NXDOMAIN);
        expect(s.alpnProtocol).to.equal('dot');
      } finally {
        s.destroy();
      }
    });
  });

  describe('limits', () => {
    it('closes a connection that never starts its handshake, and one that sends garbage, and keeps serving', async () => {
      srv = await start(certs, { limits: { tcpIdleMs: 300 } });
      const silent = net.connect({ host: '127.0.0.1', port: srv.tls });
      const garbage = net.connect({ host: '127.0.0.1', port: srv.tls });
      garbage.on('error', () => undefined);
      garbage.write(Buffer.alloc(300, 0x41));
      const t0 = performance.now();
      expect(await run('dig', ['@127.0.0.1', '-p', String(srv.tls), '+tls', '+short', 'a.example.test'])).to.equal('10.0.0.1\n');
      await Promise.all([closed(silent), closed(garbage)]);
      expect(performance.now() - t0, 'closed by the handshake timeout').to.be.below(3000);
      expect(await run('dig', ['@127.0.0.1', '-p', String(srv.tls), '+tls', '+short', 'a.example.test'])).to.equal('10.0.0.1\n');
    });

    it('closes an idle DoT connection after the TCP idle timeout', async () => {
      srv = await start(certs, { limits: { tcpIdleMs: 300 } });
      const s = await dotConnect(certs, srv.tls);
      const t0 = performance.now();
      await closed(s);
      expect(performance.now() - t0).to.be.within(200, 3000);
    });

    it('bounds DoT connections as TCP ones: at maxTcpConnections a new one closes the oldest idle one', async () => {
      srv = await start(certs, { limits: { maxTcpConnections: 2 } });
      const a = await dotConnect(certs, srv.tls);
      const b = await dotConnect(certs, srv.tls);
      const c = await dotConnect(certs, srv.tls);
      try {
        await closed(a);
        expect(b.destroyed, 'the younger idle connection').to.equal(false);
        const answers = readFrames(c, 1);
        c.write(frame('a.example.test', 5));
        expect(decodeMessage((await answers)[0]!).answer[0]).to.include({ data: '10.0.0.1' });
      } finally {
        for (const s of [a, b, c]) s.destroy();
      }
    });

    it('bounds sockets still in their handshake at twice maxTcpConnections, until the handshake timeout frees them', async () => {
      srv = await start(certs, { limits: { maxTcpConnections: 2, tcpIdleMs: 500 } });
      const silent = Array.from({ length: 4 }, () => net.connect({ host: '127.0.0.1', port: srv!.tls }).on('error', () => undefined));
      await Promise.all(silent.map((s) => new Promise((r) => s.once('connect', r))));
      const refused = await dotConnect(certs, srv.tls).then((s) => (s.destroy(), false), () => true);
      expect(refused, 'a fifth socket while four stall').to.equal(true);
      await Promise.all(silent.map(closed));
      const s = await dotConnect(certs, srv.tls);
      s.destroy();
    });

    it('reads the certificates again on reload (new files), keeping the listener', async () => {
      const own = makeCertificates();
      try {
        srv = await start(own);
        const serial = (): Promise<string> => dotConnect(own, srv!.tls).then((s) => { const n = s.getPeerCertificate().serialNumber; s.destroy(); return n; });
        const before = await serial();
        const renewed = own.issue(own.name, 'reloaded');
        // The same keys (port 0 as at start): the listeners are kept, their certificates swapped.
        const text = corefile({ ...own, cert: renewed.cert, key: renewed.key });
        await srv.server.server.reload(loadConfigText(text, 'Corefile', { registry: createRegistry(), defaultPort: 0 }));
        expect(srv.server.server.addresses().find((a) => a.scheme === 'tls')!.port).to.equal(srv.tls);
        expect(await serial()).to.not.equal(before);
        // A reload naming a missing file fails, and the certificate in use stays.
        const broken = text.replaceAll(renewed.cert, '/nonexistent/cert.pem');
        const err = await srv.server.server.reload(loadConfigText(broken, 'Corefile', { registry: createRegistry(), defaultPort: 0 })).then(() => undefined, (e: Error) => e);
        expect(err?.message).to.match(/cannot read the certificate file \/nonexistent\/cert\.pem/);
        expect(await serial(), 'the reloaded certificate still served').to.not.equal(before);
        expect(await run('dig', ['@127.0.0.1', '-p', String(srv.tls), '+tls', '+short', 'a.example.test'])).to.equal('10.0.0.1\n');
      } finally {
        own.remove();
      }
    });

    it('serves a renewed certificate once its files change, without a reload', async () => {
      const own = makeCertificates();
      try {
        srv = await start(own);
        const subject = async (): Promise<string | undefined> => {
          const s = await dotConnect(own, srv!.tls).catch(() => undefined);
          const cn = s?.getPeerCertificate().subject?.CN;
          s?.destroy();
          return typeof cn === 'string' ? cn : undefined;
        };
        expect(await subject()).to.equal(own.name);
        const renewed = own.issue(own.name, 'renewed');
        const before = (await dotConnect(own, srv.tls).then((s) => { const serial = s.getPeerCertificate().serialNumber; s.destroy(); return serial; }));
        copyFileSync(renewed.key, own.key);
        copyFileSync(renewed.cert, own.cert);
        let serial = before;
        for (let i = 0; i < 60 && serial === before; i++) {
          await new Promise((r) => setTimeout(r, 100));
          serial = await dotConnect(own, srv.tls).then((s) => { const n = s.getPeerCertificate().serialNumber; s.destroy(); return n; }, () => before);
        }
        expect(serial, 'a new certificate').to.not.equal(before);
        expect(srv.server.logs.some((l) => /plugin\/tls: certificates of tls:\/\/127\.0\.0\.1:\d+ reloaded/.test(l)), srv.server.logs.join('\n')).to.equal(true);
      } finally {
        own.remove();
      }
    });
  });

  describe('config', () => {
    const cases = [
      { name: 'tls:// without the tls plugin', text: 'tls://.:0 {\n hosts\n}\n', err: /a tls:\/\/ server block needs the tls plugin/ },
      { name: 'https:// without the tls plugin', text: 'https://.:0 {\n hosts\n}\n', err: /a https:\/\/ server block needs the tls plugin/ },
      { name: 'a certificate file that is missing', text: 'tls://.:0 {\n tls /nonexistent/cert.pem /nonexistent/key.pem\n}\n', err: /plugin\/tls: cannot read the certificate file \/nonexistent\/cert\.pem: ENOENT/ },
      { name: 'tls with one argument', text: 'tls://.:0 {\n tls cert.pem\n}\n', err: /plugin\/tls: .*wrong argument count/ },
      { name: 'an unknown client_auth', text: 'tls://.:0 {\n tls a b {\n client_auth request\n }\n}\n', err: /'request' must be one of nocert, require_and_verify/ },
    ];
    for (const c of cases) {
      it(`refuses ${c.name}`, async () => {
        const err = await startServer(c.text).then((s) => (void s.close(), undefined), (e: unknown) => e);
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as Error).message).to.match(c.err);
      });
    }
  });
});
