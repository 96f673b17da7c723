// ratelimit through a real server over UDP on 127.0.0.1: which queries of a burst are answered, slipped
// (TC=1) or dropped, the metrics, TCP and exempt clients untouched, dig's retry over TCP, and parsing.
import { expect } from 'chai';
import dgram from 'node:dgram';
import { createRegistry, decodeMessage, encodeMessage, loadConfigText, makeQuery, type Message } from 'nodens';
import { configErrorOf, queryServer, startServer, type TestServer } from 'nodens/testing';
import { DEFAULTS, type RatelimitOptions } from './setup.js';

const corefile = (props: string) => `test {
  ratelimit {
${props}
  }
  template IN A test {
    answer "{{ .Name }} 60 IN A 10.0.0.1"
  }
}`;

/** Sends `n` queries (ids 0..n-1) at once from one socket; resolves once `expect` replies are in. */
async function burst(port: number, n: number, expectReplies: number): Promise<Map<number, Message>> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const replies = new Map<number, Message>();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${replies.size} of ${expectReplies} replies`)), 5000);
      sock.on('message', (m) => {
        const msg = decodeMessage(m);
        replies.set(msg.id, msg);
        if (replies.size >= expectReplies) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (let id = 0; id < n; id++) sock.send(encodeMessage(makeQuery(`q${id}.test`, 'A', { id })), port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
  return replies;
}

async function counter(t: TestServer, name: string): Promise<number> {
  const { body } = await t.server.metrics.scrape();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`server="dns://:${t.port}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const ids = (m: Map<number, Message>, pick: (x: Message) => boolean) => [...m.values()].filter(pick).map((x) => x.id).sort((a, b) => a - b);
const answered = (x: Message) => !x.tc && x.answer.length === 1;
const slipped = (x: Message) => x.tc && x.answer.length === 0;

describe('ratelimit over UDP', function () {
  this.timeout(20_000);
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  // One credit a second: a stall of a whole second mid-burst would be needed to change the outcome.
  const rows: { name: string; props: string; n: number; replies: number; want: { answered: number[]; slipped: number[]; dropped: number } }[] = [
    {
      name: 'slip 2: the first answered, then every 2nd limited query slips and the others are dropped',
      props: 'responses-per-second 1\n    slip 2', n: 21, replies: 11,
      want: { answered: [0], slipped: [2, 4, 6, 8, 10, 12, 14, 16, 18, 20], dropped: 10 },
    },
    {
      name: 'slip 1: every limited query slips',
      props: 'responses-per-second 1\n    slip 1', n: 6, replies: 6,
      want: { answered: [0], slipped: [1, 2, 3, 4, 5], dropped: 0 },
    },
    {
      name: 'slip 3, 2 responses a second',
      props: 'responses-per-second 2\n    slip 3', n: 11, replies: 5,
      want: { answered: [0, 1], slipped: [4, 7, 10], dropped: 6 },
    },
    {
      name: 'an exempt client is never limited',
      props: 'responses-per-second 1\n    exempt 10.0.0.0/8 127.0.0.0/8', n: 21, replies: 21,
      want: { answered: Array.from({ length: 21 }, (_, i) => i), slipped: [], dropped: 0 },
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      t = await startServer(corefile(`    ${row.props}`));
      const replies = await burst(t.port, row.n, row.replies);
      expect(ids(replies, answered)).to.deep.equal(row.want.answered);
      expect(ids(replies, slipped)).to.deep.equal(row.want.slipped);
      expect(replies.size).to.equal(row.want.answered.length + row.want.slipped.length);
      expect(await counter(t, 'coredns_ratelimit_dropped_total')).to.equal(row.want.dropped);
      expect(await counter(t, 'coredns_ratelimit_slipped_total')).to.equal(row.want.slipped.length);
    });
  }

  it('leaves TCP alone, and dig retries a slipped answer over TCP', async () => {
    t = await startServer(corefile('    responses-per-second 1\n    slip 1'));
    await burst(t.port, 3, 3); // the credit is spent
    expect((await queryServer('127.0.0.1', t.port, 'tcp.test', 'A', { transport: 'tcp' })).answer).to.have.length(1);
    const out = await t.dig(['+tries=1', '+time=2', 'dig.test', 'A']);
    expect(out).to.match(/Truncated, retrying in TCP mode/);
    expect(out).to.match(/dig\.test\.\s+60\s+IN\s+A\s+10\.0\.0\.1/);
  });
});

describe('ratelimit: setup', () => {
  const load = (props: string): RatelimitOptions =>
    loadConfigText(`. {\n  ratelimit {\n${props}\n  }\n}\n`, 'Corefile', { registry: createRegistry(), env: {} }).servers[0]!.plugins[0]!.options as RatelimitOptions;

  it('reads every property by its BIND name', () => {
    expect(load('responses-per-second 5\nwindow 10\nslip 0\nipv4-prefix-length 32\nipv6-prefix-length 64\nexempt 10.0.0.0/8\nexempt fd00::/8 ::1\nmax-prefixes 10')).to.deep.equal({
      responsesPerSecond: 5, window: 10, slip: 0, ipv4PrefixLength: 32, ipv6PrefixLength: 64, exempt: ['10.0.0.0/8', 'fd00::/8', '::1'], maxPrefixes: 10,
    });
    expect(DEFAULTS).to.include({ responsesPerSecond: 20, window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56 });
  });

  const bad: [string, string, RegExp][] = [
    ['responses-per-second 0', 'ERR_BAD_VALUE', /out of range/],
    ['slip 11', 'ERR_BAD_VALUE', /out of range/],
    ['ipv4-prefix-length 33', 'ERR_BAD_VALUE', /out of range/],
    ['exempt 10.0.0.0/40', 'ERR_BAD_VALUE', /not an address or CIDR/],
    ['responses-per-secnd 5', 'ERR_UNKNOWN_PROPERTY', /did you mean 'responses-per-second'/],
    ['window', 'ERR_ARG_COUNT', /./],
  ];
  for (const [props, code, message] of bad) {
    it(`refuses '${props}' (${code})`, () => {
      const err = configErrorOf(() => load(props));
      expect(err.code).to.equal(code);
      expect(err.message).to.match(message);
    });
  }
});
