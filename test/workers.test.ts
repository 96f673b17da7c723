// Worker processes: two workers share the listeners, both answer, /metrics counts the whole process tree,
// and SIGTERM stops them all with exit 0.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { queryServer } from '../core/testing.js';
import { freePort } from '../plugins/pkg/test-env.js';

const CLI = path.resolve(import.meta.dirname, '../dist/bin/nodens.js');

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('worker processes (--workers 2)', function () {
  this.timeout(60_000);

  // The cluster module shares one socket (the primary picks the port for 0). With NODENS_SOCKET_SHARING=reusePort
  // and a fixed port each worker binds its own SO_REUSEPORT sockets; port 0 falls back to the shared one.
  const rows: { name: string; fixedPort: boolean; reusePort: boolean; sockets: number }[] = [
    { name: 'port 0, the cluster module sharing one socket', fixedPort: false, reusePort: false, sockets: 1 },
    { name: 'a fixed port, the cluster module sharing one socket', fixedPort: true, reusePort: false, sockets: 1 },
    { name: 'a fixed port, each worker its own reusePort sockets', fixedPort: true, reusePort: true, sockets: 2 },
    { name: 'port 0 with reusePort asked: the shared socket', fixedPort: false, reusePort: true, sockets: 1 },
  ];
  for (const row of rows) it(`share the listeners (${row.name}), answer over UDP and TCP, report metrics for all of them, and stop on SIGTERM`, async () => {
    const metricsPort = await freePort();
    const dnsPort = row.fixedPort ? await freePort() : 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-workers-'));
    const file = path.join(dir, 'Corefile');
    fs.writeFileSync(file, `.:${dnsPort} {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:${metricsPort}\n  hosts {\n    10.0.0.1 a.example\n  }\n}\n`);
    const env = { ...process.env, NODENS_SOCKET_SHARING: row.reusePort ? 'reusePort' : '' };
    const child = spawn(process.execPath, [CLI, '-conf', file, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('2 workers serving') && resolve());
        child.on('close', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const pids = new Set([...out.matchAll(/serving 127\.0\.0\.1:(\d+) \(worker (\d+)\)/g)].map((m) => m[2]));
      const ports = new Set([...out.matchAll(/serving 127\.0\.0\.1:(\d+) \(worker/g)].map((m) => m[1]));
      expect(pids.size, 'two worker processes').to.equal(2);
      expect(ports.size, 'one shared port').to.equal(1);
      const port = Number([...ports][0]);
      if (row.fixedPort) expect(port).to.equal(dnsPort);
      // /proc/net/udp lists each socket: one per worker with reusePort, the primary's one otherwise.
      const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
      const sockets = fs.readFileSync('/proc/net/udp', 'utf8').split('\n').filter((l) => l.trim().split(/\s+/)[1] === local).length;
      expect(sockets, 'UDP sockets on the port').to.equal(row.sockets);

      for (let i = 0; i < 30; i++) {
        const m = await queryServer('127.0.0.1', port, 'a.example', 'A', { transport: i % 3 === 0 ? 'tcp' : 'udp' });
        expect(m.answer[0]).to.deep.include({ type: 'A', data: '10.0.0.1' });
      }
      const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).to.equal(200);
      const total = [...metrics.body.matchAll(/^coredns_dns_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(total, 'requests counted across both workers').to.equal(30);
      expect(metrics.body).to.match(/^coredns_build_info\{[^}]*\} 1$/m);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'close');
    expect(code).to.equal(0);
    expect(out.match(/SIGTERM: shutting down/g)).to.have.length(2);
  });
});
