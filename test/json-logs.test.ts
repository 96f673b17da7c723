// `--log-format json`: every line (start-up, query log, errors) validates against docs/log-schema.json,
// and the query line carries one typed field per CoreDNS placeholder.
import { Ajv } from 'ajv';
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from '../core/create.js';
import { createLogger } from '../core/log.js';
import { definePlugin, DnsError } from '../core/plugin.js';
import { queryServer } from '../core/testing.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/log-schema.json'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ strict: false }).compile(schema);

const failing = definePlugin({
  name: 'failing', schema: {}, before: 'hosts', parse: () => ({}),
  setup: () => ({ serve: (req, next) => { if (req.qname.startsWith('bad.')) throw new DnsError(2, 'upstream went away'); return next(); } }),
});

describe('JSON logs', () => {
  it('every line validates against the shipped schema; the query line has one field per placeholder', async () => {
    const lines: string[] = [];
    const server = await createServer({
      corefile: 'example.org {\n  errors\n  log\n  failing\n  hosts {\n    10.0.0.1 www.example.org\n  }\n}\n',
      plugins: [failing], defaultPort: 0, defaultBind: ['127.0.0.1'],
      logger: createLogger({ format: 'json', sink: { write: (l) => lines.push(l) } }),
    });
    const port = server.addresses()[0]!.port;
    try {
      await queryServer('127.0.0.1', port, 'www.example.org', 'A', { do: true, udpSize: 1232 });
      await queryServer('127.0.0.1', port, 'bad.example.org', 'AAAA', { transport: 'tcp' });
      for (let i = 0; i < 100 && lines.filter((l) => l.includes('"plugin":"log"')).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await server.close();
    }
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const [i, o] of objects.entries()) expect(validate(o), `${lines[i]}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    const queries = objects.filter((o) => o.plugin === 'log');
    expect(queries).to.have.length(2);
    expect(queries[0]).to.include({
      level: 'info', remote: '127.0.0.1', type: 'A', class: 'IN', name: 'www.example.org.', proto: 'udp', do: true, bufsize: 1232, rcode: 'NOERROR',
    });
    expect(queries[0]!.rflags).to.match(/^qr,aa,rd/);
    expect(queries[0]!.msg).to.match(/^127\.0\.0\.1:\d+ - \d+ "A IN www\.example\.org\. udp/);
    expect(queries[1]).to.include({ type: 'AAAA', name: 'bad.example.org.', proto: 'tcp', do: false, rcode: 'SERVFAIL' });
    for (const q of queries) {
      for (const k of ['port', 'id', 'size', 'rsize']) expect(q[k], k).to.be.a('number');
      expect(q.duration).to.be.a('number').within(0, 5);
    }
    const errors = objects.filter((o) => o.level === 'error');
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ plugin: 'errors', msg: '2 bad.example.org. AAAA: upstream went away' });
    expect(objects.some((o) => o.plugin === 'core' && o.level === 'info' && String(o.msg).includes('chain: errors -> log -> failing -> hosts'))).to.equal(true);
  });

  it('the schema rejects lines that miss a field or a query field', () => {
    const bad = [
      { level: 'info', ts: '2026-01-01T00:00:00.000Z', msg: 'no plugin' },
      { level: 'loud', ts: '2026-01-01T00:00:00.000Z', plugin: 'core', msg: 'bad level' },
      { level: 'info', ts: 'yesterday', plugin: 'core', msg: 'bad ts' },
      { level: 'info', ts: '2026-01-01T00:00:00.000Z', plugin: 'log', msg: 'q', name: 'a.' },
      { level: 'info', ts: '2026-01-01T00:00:00.000Z', plugin: 'core', msg: 'x', line: 'the old shape' },
    ];
    for (const b of bad) expect(validate(b), JSON.stringify(b)).to.equal(false);
  });
});
