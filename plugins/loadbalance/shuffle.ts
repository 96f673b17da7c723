// CoreDNS's round-robin reordering of a section: CNAMEs first, then other records, then the
// shuffled addresses, then the shuffled MX records.
import type { ResourceRecord } from '../../core/message.js';

/** Random integers for the shuffle (CoreDNS draws them from dns.Id()); injectable for tests. */
export type Random = () => number;
export const mathRandom: Random = () => Math.floor(Math.random() * 65536);

/** How many records of a section the shuffle would move: addresses and MX. */
export function shuffleable(records: readonly ResourceRecord[]): { addresses: number; mx: number } {
  let addresses = 0;
  let mx = 0;
  for (const r of records) {
    if (r.type === 'A' || r.type === 'AAAA') addresses++;
    else if (r.type === 'MX') mx++;
  }
  return { addresses, mx };
}

function shuffle(records: ResourceRecord[], random: Random): void {
  const l = records.length;
  if (l < 2) return;
  if (l === 2) {
    if (random() % 2 === 0) [records[0], records[1]] = [records[1]!, records[0]!];
    return;
  }
  for (let j = 0; j < l; j++) {
    const p = j + (random() % (l - j));
    if (p !== j) [records[j], records[p]] = [records[p]!, records[j]!];
  }
}

/** A new array in CoreDNS's round-robin order; the input is not touched. */
export function roundRobin(records: readonly ResourceRecord[], random: Random = mathRandom): ResourceRecord[] {
  const cname: ResourceRecord[] = [];
  const address: ResourceRecord[] = [];
  const mx: ResourceRecord[] = [];
  const rest: ResourceRecord[] = [];
  for (const r of records) {
    if (r.type === 'CNAME') cname.push(r);
    else if (r.type === 'A' || r.type === 'AAAA') address.push(r);
    else if (r.type === 'MX') mx.push(r);
    else rest.push(r);
  }
  shuffle(address, random);
  shuffle(mx, random);
  return [...cname, ...rest, ...address, ...mx];
}
