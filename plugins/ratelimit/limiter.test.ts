import { expect } from 'chai';
import { Limiter, parseNet, type LimiterOptions, type Verdict } from './limiter.js';

const BASE: LimiterOptions = { responsesPerSecond: 4, window: 2, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: [], maxPrefixes: 100 };

function limiter(over: Partial<LimiterOptions> = {}): { l: Limiter; advance(ms: number): void } {
  let now = 0;
  return { l: new Limiter({ ...BASE, ...over }, () => now), advance: (ms) => void (now += ms) };
}

const run = (l: Limiter, address: string, n: number): Verdict[] => Array.from({ length: n }, () => l.check(address));

describe('ratelimit: the limiter', () => {
  const cases: { name: string; over?: Partial<LimiterOptions>; want: Verdict[] }[] = [
    { name: 'a second of credit passes, then every 2nd limited slips', want: ['pass', 'pass', 'pass', 'pass', 'drop', 'slip', 'drop', 'slip'] },
    { name: 'slip 0 drops every limited one', over: { slip: 0 }, want: ['pass', 'pass', 'pass', 'pass', 'drop', 'drop', 'drop'] },
    { name: 'slip 1 slips every limited one', over: { slip: 1 }, want: ['pass', 'pass', 'pass', 'pass', 'slip', 'slip', 'slip'] },
    { name: 'slip 3', over: { slip: 3 }, want: ['pass', 'pass', 'pass', 'pass', 'drop', 'drop', 'slip', 'drop', 'drop', 'slip'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { l } = limiter(c.over);
      expect(run(l, '192.0.2.1', c.want.length)).to.deep.equal(c.want);
    });
  }

  it('shares the credit within a /24 and an IPv6 /56, not across them', () => {
    const { l } = limiter();
    expect(run(l, '192.0.2.1', 4)).to.deep.equal(['pass', 'pass', 'pass', 'pass']);
    expect(l.check('192.0.2.200')).to.not.equal('pass');
    expect(l.check('192.0.3.1')).to.equal('pass');
    expect(run(l, '2001:db8:0:ab00::1', 4)).to.deep.equal(['pass', 'pass', 'pass', 'pass']);
    expect(l.check('2001:db8:0:abff:ffff::9')).to.not.equal('pass'); // same /56
    expect(l.check('2001:db8:0:ac00::1')).to.equal('pass');
    expect(l.check('::ffff:192.0.2.9')).to.not.equal('pass'); // IPv4-mapped is the IPv4 network
  });

  it('honours the prefix lengths', () => {
    const { l } = limiter({ ipv4PrefixLength: 32 });
    run(l, '192.0.2.1', 4);
    expect(l.check('192.0.2.1')).to.not.equal('pass');
    expect(l.check('192.0.2.2')).to.equal('pass');
  });

  it('never limits exempt networks', () => {
    const { l } = limiter({ exempt: ['10.0.0.0/8', 'fd00::/8', '192.0.2.7'] });
    expect(run(l, '10.1.2.3', 50).every((v) => v === 'pass')).to.equal(true);
    expect(run(l, 'fd12::1', 50).every((v) => v === 'pass')).to.equal(true);
    expect(run(l, '192.0.2.7', 50).every((v) => v === 'pass')).to.equal(true);
    expect(run(l, '192.0.2.8', 5)).to.include('drop');
  });

  it('earns responses-per-second credit back, but a flood runs into window seconds of debt', () => {
    const { l, advance } = limiter({ slip: 0 });
    run(l, '192.0.2.1', 4);
    advance(500); // 2 credits
    expect(run(l, '192.0.2.1', 3)).to.deep.equal(['pass', 'pass', 'drop']);
    // A long flood: the debt stops at window (2 s) × 4/s = 8 responses.
    run(l, '192.0.2.1', 1000);
    advance(2000); // pays back 8
    expect(l.check('192.0.2.1')).to.equal('drop'); // balance 0; the limited query costs one too
    advance(250);
    expect(l.check('192.0.2.1')).to.equal('drop'); // back to 0, and down again
    advance(500);
    expect(l.check('192.0.2.1')).to.equal('pass');
    advance(10_000); // credit is capped at one second's worth
    expect(run(l, '192.0.2.1', 5)).to.deep.equal(['pass', 'pass', 'pass', 'pass', 'drop']);
  });

  it('forgets the oldest network beyond max-prefixes', () => {
    const { l } = limiter({ maxPrefixes: 3 });
    for (let i = 0; i < 10; i++) l.check(`198.51.${i}.1`);
    expect(l.size).to.equal(3);
  });

  it('passes what is not an address', () => {
    const { l } = limiter({ responsesPerSecond: 1 });
    expect(run(l, 'not-an-ip', 5).every((v) => v === 'pass')).to.equal(true);
  });

  const nets: [string, boolean][] = [['10.0.0.0/8', true], ['10.0.0.1', true], ['fd00::/8', true], ['::1', true], ['10.0.0.0/33', false], ['fd00::/129', false], ['10.0.0/8', false], ['x', false], ['10.0.0.0/', false]];
  for (const [text, ok] of nets) it(`parses '${text}' as ${ok ? 'a network' : 'nothing'}`, () => expect(parseNet(text) !== undefined).to.equal(ok));
});
