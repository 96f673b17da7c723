import { expect } from 'chai';
import { Lru } from './lru.js';

describe('cache Lru', () => {
  it('never holds more than its capacity, evicting the oldest first', () => {
    const lru = new Lru<number>(100);
    let evictions = 0;
    for (let i = 0; i < 1000; i++) if (lru.set(`k${i}`, i)) evictions++;
    expect(lru.size).to.equal(100);
    expect(evictions).to.equal(900);
    expect(lru.peek('k899')).to.equal(undefined);
    expect(lru.peek('k900')).to.equal(900);
  });

  it('keeps an entry that is used while colder ones are inserted (recency moved lazily, never lost)', () => {
    const lru = new Lru<number>(100);
    for (let i = 0; i < 100; i++) lru.set(`k${i}`, i);
    // k0 is the oldest; reading it on every insertion must keep it through many evictions.
    for (let i = 100; i < 1000; i++) {
      expect(lru.get('k0'), `after ${i - 100} insertions`).to.equal(0);
      lru.set(`k${i}`, i);
    }
    expect(lru.size).to.equal(100);
  });

  it('evicts an entry that is no longer used', () => {
    const lru = new Lru<number>(10);
    for (let i = 0; i < 10; i++) lru.set(`k${i}`, i);
    lru.get('k0');
    for (let i = 10; i < 30; i++) lru.set(`k${i}`, i);
    expect(lru.peek('k0')).to.equal(undefined);
  });
});
