// The loop plugin's probe: one HINFO query for a random name, sent to our own listener over UDP.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { makeQuery } from '../../core/message.js';
import { encodeMessage } from '../../core/wire.js';

/** `<random>.<random>.<zone>`: two 63-bit decimal labels, as CoreDNS's rand.Int() makes them. */
export function probeName(zone: string): string {
  const label = (): string => (randomBytes(8).readBigUInt64BE() >> 1n).toString();
  return [label(), label(), ...(zone ? [zone] : [])].join('.');
}

/** Where to send a probe to reach a listener bound to `address` (a wildcard bind is reached on loopback). */
export function probeTarget(address: string): string {
  return address === '' || address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
}

/**
 * Sends `HINFO qname` to address:port and resolves true when any answer with the query's ID comes
 * back within `timeoutMs`, false on a timeout or a socket error. `signal` abandons the exchange.
 */
export function exchangeProbe(qname: string, address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const query = makeQuery(qname, 'HINFO');
    const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.close();
      resolve(ok);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    timer.unref();
    sock.unref();
    signal?.addEventListener('abort', onAbort);
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.id) finish(true);
    });
    sock.on('error', () => finish(false));
    sock.send(encodeMessage(query), port, address, (err) => err && finish(false));
  });
}
