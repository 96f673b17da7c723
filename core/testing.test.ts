// The author's kit ('nodens/testing') works with nothing private: options from Corefile text through
// the real loader, a SetupEnv fake, requests with EDNS options, and a stub next() that derives.
import { expect } from 'chai';
import { definePlugin, expectArgs, intArg, makeReply, type Message } from 'nodens';
import { configErrorOf, makeRequest, parseDirective, stubNext, testEnv } from 'nodens/testing';

const greet = definePlugin<{ name: string; times: number; loud?: boolean }>({
  name: 'greet',
  schema: {
    type: 'object',
    properties: { name: { type: 'string', pattern: '^[a-z]+$' }, times: { type: 'integer', default: 1 }, loud: { type: 'boolean' } },
    required: ['name'],
    additionalProperties: false,
  },
  parse: (d) => {
    const out: { name: string; times?: number; loud?: boolean } = { name: expectArgs(d, 'greet', 1)[0]!.text };
    for (const p of d.block ?? []) {
      if (p.name.text === 'times') out.times = intArg(expectArgs(p, 'greet', 1)[0]!, 'greet', 1, 10);
      else if (p.name.text === 'loud') out.loud = true;
      else throw new Error(`unknown property '${p.name.text}'`);
    }
    return out as { name: string; times: number };
  },
  setup: ({ name, times }, env) => {
    env.logger.info(`greeting ${name} ${times}x`);
    return { serve: (req) => makeReply(req.query, { answer: [{ name: req.qname, ttl: 1, type: 'TXT', data: Array(times).fill(name) }] }) };
  },
});

describe('nodens/testing: the author\'s kit', () => {
  const rows = [
    { text: 'greet world', want: { name: 'world', times: 1 } },
    { text: 'greet world {\n  times 3\n  loud\n}', want: { name: 'world', times: 3, loud: true } },
  ];
  for (const row of rows) {
    it(`parseDirective: '${row.text.split('\n')[0]}' → parse(), then the schema's defaults`, () => {
      expect(parseDirective(greet, row.text)).to.deep.equal(row.want);
    });
  }

  const errors = [
    { text: 'greet World', line: 2, col: 1, message: /name 'World' is not in the expected format/ },
    { text: 'greet world {\n  times 30\n}', line: 3, col: 9, message: /30/ },
    { text: 'greet', line: 2, col: 1, message: /argument/ },
  ];
  for (const row of errors) {
    it(`parseDirective: '${row.text.replace(/\n/g, ' ')}' is the ConfigError a server gives, at ${row.line}:${row.col}`, () => {
      const err = configErrorOf(() => parseDirective(greet, row.text));
      expect(err.pos).to.include({ file: 'Corefile', line: row.line, col: row.col });
      expect(err.message).to.match(row.message);
    });
  }

  it('testEnv: setup() logs through it, hooks run by hand', async () => {
    const env = testEnv({ plugin: 'greet', zones: ['example.org'] });
    let started = false;
    env.onStartup(() => void (started = true));
    await greet.setup(parseDirective(greet, 'greet you'), env);
    await env.startup();
    expect(started).to.equal(true);
    expect(env.logger.lines).to.deep.equal(['[INFO] plugin/greet: greeting you 1x']);
  });

  it('makeRequest carries EDNS options; stubNext derives as the chain does and records each request', async () => {
    const ecs = { code: 8, data: Uint8Array.from([0, 1, 24, 0, 10, 1, 2]) };
    const req = makeRequest('Web.Old.Test', 'A', { ednsOptions: [ecs] });
    expect(req.ednsOptions).to.deep.equal([ecs]);
    expect(req.original).to.equal(req);
    req.metadata.set('test/x', 'y');
    const next = stubNext(req);
    const reply = (await next({ name: 'web.new.test', type: 'AAAA' })) as Message;
    expect(next.calls).to.equal(1);
    const seen = next.requests[0]!;
    expect([seen.qname, seen.qtype, seen.original, seen.metadata.get('test/x')]).to.deep.equal(['web.new.test', 'AAAA', req, 'y']);
    expect(reply.question[0]).to.deep.include({ name: 'web.new.test', type: 'AAAA' });
    expect(reply.rcode).to.equal(3);
  });
});
