// What a spoofer must guess per forwarded UDP query, in bits: the 16-bit ID, the source port, and one bit
// per letter of the question name when 0x20 is on. Two attackers: a blind one, who knows nothing but the
// ephemeral port range, and one who sees which ports forward has open (as the test did).
import { readFileSync } from 'node:fs';

export interface SpoofEntropy {
  readonly id: number;
  /** Port bits against a blind attacker: the whole ephemeral range. */
  readonly port: number;
  /** Port bits against an attacker who sees the open ports: the choice among the socket slots. */
  readonly portSeen: number;
  readonly case: number;
  readonly blind: number;
  readonly portsSeen: number;
}

export interface EntropyInput {
  /** The question name as the client sends it. */
  readonly qname: string;
  readonly randomizeCase: boolean;
  /** Socket slots per upstream (one picked at random per query); 1 with a fresh socket per query. */
  readonly sockets: number;
  /** The kernel's ephemeral port range, inclusive. */
  readonly portRange: readonly [number, number];
}

export function spoofEntropy(i: EntropyInput): SpoofEntropy {
  const id = 16;
  const port = Math.log2(i.portRange[1] - i.portRange[0] + 1);
  const portSeen = Math.log2(Math.max(1, i.sockets));
  const letters = i.randomizeCase ? (i.qname.match(/[a-z]/gi)?.length ?? 0) : 0;
  return { id, port, portSeen, case: letters, blind: id + port + letters, portsSeen: id + portSeen + letters };
}

/** Linux's ip_local_port_range (the ports bind(0) draws from); Linux's default when it cannot be read. */
export function ephemeralPortRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [lo, hi] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux, or no /proc
  }
  return [32768, 60999];
}
