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

  it('keeps the variants of one name apart, counts each, and evicts a name with all its variants', () => {
    const lru = new Lru<string>(4);
    expect(lru.set('a', 'a/1', 1)).to.equal(0);
    expect(lru.set('a', 'a/2', 2)).to.equal(0);
    expect(lru.set('b', 'b/1', 1)).to.equal(0);
    expect(lru.size).to.equal(3);
    expect([lru.get('a', 1), lru.get('a', 2), lru.get('a', 3), lru.get('b', 1), lru.get('b', 2)]).to.deep.equal(['a/1', 'a/2', undefined, 'b/1', undefined]);
    expect(lru.set('a', 'a/1 again', 1)).to.equal(0);
    expect([lru.size, lru.peek('a', 1)]).to.deep.equal([3, 'a/1 again']);
    expect(lru.set('c', 'c/1', 1)).to.equal(0);
    // Over capacity: b is the oldest name (a was set after it), one entry.
    expect(lru.set('d', 'd/1', 1)).to.equal(1);
    expect([lru.size, lru.peek('b', 1), lru.peek('a', 2)]).to.deep.equal([4, undefined, 'a/2']);
    // Evicting a (two variants) to make room for more.
    expect(lru.set('e', 'e/1', 1)).to.equal(2);
    expect([lru.size, lru.peek('a', 1), lru.peek('a', 2)]).to.deep.equal([3, undefined, undefined]);
    expect(lru.delete('e', 2)).to.equal(false);
    expect(lru.delete('e', 1)).to.equal(true);
    expect(lru.size).to.equal(2);
  });

  it('deletes any variant of a name, the first stored one included, and keeps the others', () => {
    const lru = new Lru<string>(10);
    for (const v of [1, 2, 3]) lru.set('a', `a/${v}`, v);
    expect(lru.delete('a', 1)).to.equal(true);
    expect([lru.size, lru.get('a', 1), lru.get('a', 2), lru.get('a', 3)]).to.deep.equal([2, undefined, 'a/2', 'a/3']);
    expect(lru.delete('a', 3)).to.equal(true);
    expect(lru.delete('a', 3)).to.equal(false);
    expect([lru.size, lru.peek('a', 2)]).to.deep.equal([1, 'a/2']);
    expect(lru.set('a', 'a/1 again', 1)).to.equal(0);
    expect(lru.delete('a', 2)).to.equal(true);
    expect(lru.delete('a', 1)).to.equal(true);
    expect([lru.size, lru.peek('a', 1)]).to.deep.equal([0, undefined]);
    expect(lru.set('a', 'a/4', 4)).to.equal(0);
    expect([lru.size, lru.get('a', 4)]).to.deep.equal([1, 'a/4']);
  });

  it('bounds a single name with more variants than the capacity', () => {
    const lru = new Lru<number>(3);
    for (let v = 0; v < 10; v++) lru.set('only', v, v);
    expect(lru.size).to.equal(3);
    expect([lru.peek('only', 9), lru.peek('only', 6)]).to.deep.equal([9, undefined]);
  });
});
