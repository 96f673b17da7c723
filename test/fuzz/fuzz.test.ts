// The fuzzers at a size CI can afford (about a second each, a new seed each run, FUZZ_SEED to replay one);
// `npm run fuzz` runs the same ones for as long as asked.
import { expect } from 'chai';
import { FUZZERS } from './run.js';

const budgetMs = Number(process.env.FUZZ_MS ?? 1000);

describe('fuzz: no input escapes the feeds, and the indexes stay right', function () {
  this.timeout(budgetMs * 10 + 20_000);
  for (const [name, fuzz] of Object.entries(FUZZERS)) {
    it(name, async () => {
      const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
      const result = await fuzz(seed, budgetMs);
      // The run must have exercised both sides: inputs accepted and inputs refused.
      expect(result.iterations, `seed ${seed}`).to.be.greaterThan(0);
      expect(result.accepted, `seed ${seed}`).to.be.greaterThan(0);
      expect(result.refused, `seed ${seed}`).to.be.greaterThan(0);
    });
  }
});
