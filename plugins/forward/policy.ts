// Upstream selection policies: the order in which one query tries the upstreams (CoreDNS's policy.go).
import { randomInt } from 'node:crypto';

export type PolicyName = 'random' | 'round_robin' | 'sequential';

export interface Policy {
  list<T>(items: readonly T[]): readonly T[];
}

export function shuffled<T>(items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function makePolicy(name: PolicyName): Policy {
  switch (name) {
    case 'sequential':
      return { list: (items) => items };
    case 'round_robin': {
      let robin = randomInt(1 << 30);
      return {
        list<T>(items: readonly T[]): readonly T[] {
          const start = robin++ % items.length;
          return start === 0 ? items : [...items.slice(start), ...items.slice(0, start)];
        },
      };
    }
    case 'random':
      return { list: (items) => (items.length < 2 ? items : shuffled(items)) };
  }
}
