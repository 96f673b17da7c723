// releaseMemory: V8's last-resort collection after a large sync, without leaving a global gc behind.
import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RELEASE_AFTER_OBJECTS, releaseMemory } from './feed.js';

const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

describe('releaseMemory', () => {
  it('shrinks the young generation to its minimum and exposes no gc', () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc;
    // Garbage enough for the young generation to grow.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += [i, { i }].length;
    expect(keep).to.equal(400_000);
    const before = newSpace();
    releaseMemory(RELEASE_AFTER_OBJECTS);
    expect(newSpace()).to.be.at.most(Math.min(before, 4 * 2 ** 20));
    expect(typeof (globalThis as { gc?: unknown }).gc).to.equal(hadGc);
    expect(vm.runInNewContext('typeof gc')).to.equal('undefined');
  });

  it('leaves a small sync alone', () => {
    releaseMemory(RELEASE_AFTER_OBJECTS - 1);
    expect(vm.runInNewContext('typeof gc')).to.equal('undefined');
  });
});
