import { expect } from 'chai';
import { loadConfigText } from '../../core/config/load.js';
import { createRegistry } from '../../core/create.js';
import { memoryLogger } from '../../core/log.js';
import { makeReply } from '../../core/message.js';
import { createMetrics } from '../../core/metrics.js';
import { definePlugin, DnsError, type SetupEnv } from '../../core/plugin.js';
import { makeRequest, startServer, stubNext } from '../../core/testing.js';
import { Consolidator, goDuration } from './consolidate.js';
import { setup, type ErrorsOptions } from './setup.js';
import { configErrorOf } from '../../core/testing.js';

function testEnv(): SetupEnv & { lines: string[] } {
  const logger = memoryLogger();
  return {
    logger, lines: logger.lines, zones: [''], configDir: '/', configFile: '/Corefile', configFiles: [], listen: [],
    metrics: createMetrics(), onStartup: () => {}, onShutdown: () => {}, instances: () => [],
    resolve: () => Promise.reject(new Error('no server')), control: { reload: async () => {}, fatal: () => {} },
  };
}

/** Runs one query through the errors handler and fires its onDone with `error`. */
async function failOnce(h: ReturnType<typeof setup>, error: Error | undefined, rcode = 2, name = 'example.org', type = 'A'): Promise<void> {
  const req = makeRequest(name, type);
  const reply = await h.serve!(req, stubNext(req, makeReply(req.query, { rcode })));
  req.finish({ reply, rcode, size: 30, truncated: false, durationMs: 1, plugin: 'forward', ...(error ? { error } : {}) });
}

describe('errors: goDuration', () => {
  const cases: [number, string][] = [[30_000, '30s'], [300_000, '5m0s'], [5_400_000, '1h30m0s'], [300, '300ms'], [1500, '1.5s'], [0, '0s']];
  for (const [ms, want] of cases) it(`${ms} ms → ${want}`, () => expect(goDuration(ms)).to.equal(want));
});

describe('errors: handler', () => {
  it('logs an error as CoreDNS does, and nothing for a clean query', async () => {
    const env = testEnv();
    const h = setup({}, env);
    await failOnce(h, undefined, 0);
    await failOnce(h, new Error('dial udp 10.0.0.1:53: i/o timeout'), 2, 'Www.Example.org', 'AAAA');
    expect(env.lines).to.deep.equal(['[ERROR] 2 www.example.org. AAAA: dial udp 10.0.0.1:53: i/o timeout']);
  });

  it('consolidates matching errors into one line per period, at the chosen level', async () => {
    const env = testEnv();
    const h = setup({ consolidate: [{ duration: '50ms', pattern: 'timeout$', level: 'warning' }] }, env);
    for (let i = 0; i < 3; i++) await failOnce(h, new Error(`read ${i}: i/o timeout`));
    await failOnce(h, new Error('other'));
    expect(env.lines).to.deep.equal(['[ERROR] 2 example.org. A: other']);
    for (let i = 0; i < 100 && env.lines.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(env.lines[1]).to.equal("[WARNING] 3 errors like 'timeout$' occurred in last 50ms");
  });

  it('show_first logs the first at once and counts the others', async () => {
    const env = testEnv();
    const h = setup({ consolidate: [{ duration: '1h', pattern: '^Failed to .+', show_first: true }] }, env);
    await failOnce(h, new Error('Failed to connect'));
    await failOnce(h, new Error('Failed to connect'));
    await failOnce(h, new Error('Failed to connect'));
    expect(env.lines).to.deep.equal(['[ERROR] 2 example.org. A: Failed to connect']);
    await h.close!(); // shutdown reports what was counted
    expect(env.lines[1]).to.equal("[ERROR] 2 errors like '^Failed to .+' occurred in last 1h0m0s");
  });

  it('the first matching pattern wins', () => {
    const logger = memoryLogger();
    const c = new Consolidator([
      { periodMs: 1000, source: 'a', re: /a/, level: 'info', showFirst: false },
      { periodMs: 1000, source: 'b', re: /b/, level: 'info', showFirst: false },
    ], logger);
    expect(c.take('ab')).to.equal(true);
    expect(c.take('zzz')).to.equal(false);
    c.stop();
    expect(logger.lines).to.deep.equal(["[INFO] 1 errors like 'a' occurred in last 1s"]);
    expect(c.take('ab'), 'stopped: log as usual').to.equal(false);
  });
});

describe('errors: setup', () => {
  const load = (directive: string): unknown =>
    loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} })
      .servers[0]!.plugins.find((p) => p.name === 'errors')!.options;

  const ok: { corefile: string; want: ErrorsOptions }[] = [
    { corefile: 'errors', want: {} },
    { corefile: 'errors stdout', want: {} },
    {
      corefile: 'errors {\n  stacktrace\n  consolidate 5m ".* i/o timeout$" warning\n  consolidate 30s "^Failed to .+"\n  consolidate 1m x debug show_first\n  consolidate 1m y show_first\n}',
      want: {
        stacktrace: true,
        consolidate: [
          { duration: '5m', pattern: '.* i/o timeout$', level: 'warning' },
          { duration: '30s', pattern: '^Failed to .+' },
          { duration: '1m', pattern: 'x', level: 'debug', show_first: true },
          { duration: '1m', pattern: 'y', show_first: true },
        ],
      },
    },
  ];
  for (const c of ok) {
    it(`parses: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => expect(load(c.corefile)).to.deep.equal(c.want));
  }

  const bad: { corefile: string; line: number; col: number; message: RegExp }[] = [
    { corefile: 'errors /var/log/x', line: 2, col: 8, message: /invalid log file/ },
    { corefile: 'errors {\n  consolidate 5m\n}', line: 3, col: 3, message: /wrong argument count/ },
    { corefile: 'errors {\n  consolidate soon x\n}', line: 3, col: 15, message: /not a duration/ },
    { corefile: 'errors {\n  consolidate 1m "(["\n}', line: 3, col: 18, message: /invalid regular expression/ },
    { corefile: 'errors {\n  consolidate 1m x warnng\n}', line: 3, col: 20, message: /did you mean 'warning'/ },
    { corefile: 'errors {\n  consolidate 1m x info debug\n}', line: 3, col: 25, message: /unexpected 'debug'/ },
    { corefile: 'errors {\n  stacktrac\n}', line: 3, col: 3, message: /did you mean 'stacktrace'/ },
  ];
  for (const c of bad) {
    it(`rejects at ${c.line}:${c.col}: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      const ce = configErrorOf(() => load(c.corefile));
      expect(ce.pos).to.include({ line: c.line, col: c.col });
      expect(ce.detail).to.match(c.message);
    });
  }
});

describe('errors: over sockets', () => {
  const failing = definePlugin({
    name: 'failing', schema: {}, before: 'hosts', parse: () => ({}),
    setup: () => ({ serve: () => { throw new DnsError(2, 'upstream went away'); } }),
  });
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('example.org {\n  errors\n  failing\n}\n', { plugins: [failing] });
  });
  after(async () => {
    await srv?.close();
  });

  it('logs the error a plugin threw, with the rcode sent', async () => {
    const m = await srv.query('x.example.org', 'TXT');
    expect(m.rcode).to.equal(2);
    let line: string | undefined;
    for (let i = 0; i < 100 && line === undefined; i++) {
      line = srv.logs.find((l) => l.startsWith('[ERROR] plugin/errors:'));
      if (line === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(line).to.equal('[ERROR] plugin/errors: 2 x.example.org. TXT: upstream went away');
  });

  const passing = definePlugin({ name: 'passing', schema: {}, before: 'hosts', parse: () => ({}), setup: () => ({ serve: (_req, next) => next() }) });
  const rows = [
    { name: 'a plugin throws', corefile: 'example.org {\n  errors\n  failing\n}\n', qname: 'y.example.org' },
    { name: 'the query falls off the end of the chain', corefile: 'example.org {\n  errors\n  passing\n}\n', qname: 'z.example.org' },
  ];
  for (const row of rows) {
    it(`one ERROR line per failure when ${row.name}`, async () => {
      const s = await startServer(row.corefile, { plugins: [failing, passing] });
      try {
        for (let n = 1; n <= 2; n++) {
          expect((await s.query(row.qname, 'A')).rcode).to.equal(2);
          for (let i = 0; i < 100 && s.logs.filter((l) => l.startsWith('[ERROR]')).length < n; i++) await new Promise((r) => setTimeout(r, 10));
        }
        const errors = s.logs.filter((l) => l.startsWith('[ERROR]'));
        expect(errors).to.have.length(2);
        expect(errors.every((l) => l.startsWith(`[ERROR] plugin/errors: 2 ${row.qname}. A: `))).to.equal(true);
      } finally {
        await s.close();
      }
    });
  }
});
