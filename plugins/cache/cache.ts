// The cache handler: answer hits from stored wire bytes without running the rest of the chain, store
// what comes back on a miss, prefetch popular entries, and serve stale entries when refreshing fails.
import { CLASS_CODES, isWireReply, typeCode, type Reply, type WireAnswer } from '../../core/message.js';
import { EdeCode, withExtendedError } from '../../core/edns.js';
import type { Logger } from '../../core/log.js';
import { SLOW_PATH, type FastPath, type Handler, type Next, type Request } from '../../core/plugin.js';
import { isInZone } from '../../core/zones.js';
import { hitAnswer, materialize, messageTtl, questionMatches, remaining, typify, wireOf, withoutOpt, type Item, type Kind } from './item.js';
import { Lru } from './lru.js';
import type { BoundMetrics, CacheMetrics } from './metrics.js';

export interface CacheLimits {
  readonly capacity: number;
  /** Seconds. */
  readonly maxTtl: number;
  readonly minTtl: number;
}

export interface CacheConfig {
  readonly zones: readonly string[];
  readonly success: CacheLimits;
  readonly denial: CacheLimits;
  /** Hits needed before an entry is prefetched; 0 turns prefetch off. */
  readonly prefetch: number;
  readonly prefetchDurationMs: number;
  readonly prefetchPercentage: number;
  /** How long past expiry an entry may still be served (ms); 0 turns serve_stale off. */
  readonly staleUpToMs: number;
  readonly verifyStale: boolean;
  /** Seconds a SERVFAIL is kept; 0: never. */
  readonly servfailTtl: number;
  /** `disable success|denial ZONES`: names not to store in that cache. */
  readonly disable: Readonly<Record<Kind, readonly string[]>>;
  readonly keepttl: boolean;
}

export class Cache implements Handler {
  readonly success: Lru<Item>;
  readonly denial: Lru<Item>;
  readonly #config: CacheConfig;
  readonly #metrics: CacheMetrics;
  readonly #logger: Logger;
  readonly #now: () => number;
  /** Keys with a prefetch or stale refresh under way: at most one fetch per key. */
  readonly #inflight = new Set<string>();

  constructor(config: CacheConfig, metrics: CacheMetrics, logger: Logger, now: () => number = Date.now) {
    this.#config = config;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#now = now;
    this.success = new Lru(config.success.capacity);
    this.denial = new Lru(config.denial.capacity);
    this.#everyName = config.zones.includes('');
  }

  /** Fresh hits from their kept bytes; a miss, a stale entry or a prefetch due take the ordinary path. */
  readonly fast: FastPath = { answer: (req) => this.#fastAnswer(req) };
  /** The cache holds every name (its zone is the root): no zone test per query. */
  readonly #everyName: boolean;

  #fastAnswer(req: Request): WireAnswer | undefined | typeof SLOW_PATH {
    if (!this.#everyName && !inZones(req.qname, this.#config.zones)) return undefined;
    const now = this.#now();
    const variant = cacheVariant(req);
    // A key lives in one store: a stale success entry means no denial entry, and both mean the ordinary path.
    let item = this.success.get(req.qname, variant);
    if (item === undefined) item = this.denial.get(req.qname, variant);
    if (item === undefined) return SLOW_PATH;
    const ttl = remaining(item, now);
    if (ttl <= 0) return SLOW_PATH;
    // #shouldPrefetch says yes only at or below the threshold: above it, counting the hit here is all it would do.
    const prefetch = this.#config.prefetch > 0;
    if (prefetch && ttl <= Math.ceil((this.#config.prefetchPercentage / 100) * item.origTtl)) return SLOW_PATH;
    const hit = hitAnswer(item, this.#config.keepttl ? item.origTtl : ttl);
    if (hit === undefined) return SLOW_PATH;
    const m = this.#metrics.for(req.server);
    m.requests++;
    m.hits[item.kind]++;
    if (prefetch) this.#shouldPrefetch(item, now);
    return hit;
  }

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (!inZones(req.qname, this.#config.zones)) return next();
    const m = this.#metrics.for(req.server);
    m.requests++;
    const key = cacheKey(req);
    const now = this.#now();
    const item = this.#lookup(key, now);
    if (item === undefined) {
      m.misses++;
      const reply = next();
      return reply instanceof Promise ? reply.then((r) => this.#answerMiss(req, key, r, m)) : this.#answerMiss(req, key, reply, m);
    }
    m.hits[item.kind]++;
    const ttl = remaining(item, now);
    if (ttl <= 0) return this.#serveStale(req, next, key, item, m);
    if (this.#config.prefetch > 0 && this.#shouldPrefetch(item, now)) this.#refresh(req, next, key, item, m);
    return materialize(item, this.#config.keepttl ? item.origTtl : ttl, true);
  }

  close(): void {
    this.#metrics.close();
    this.success.clear();
    this.denial.clear();
  }

  /**
   * Expired entries only within the serve_stale window. A key lives in one store (#store removes it
   * from the other), so the order of the two lookups is free: the success cache first, since most hits
   * are positive and each lookup of a name is a likely cache miss (of the CPU's) under load.
   */
  #lookup(key: CacheKey, now: number): Item | undefined {
    const s = this.success.get(key.name, key.variant);
    if (s !== undefined && this.#servable(remaining(s, now))) return s;
    const d = this.denial.get(key.name, key.variant);
    if (d !== undefined && this.#servable(remaining(d, now))) return d;
    return undefined;
  }

  #servable(ttl: number): boolean {
    return ttl > 0 || (this.#config.staleUpToMs > 0 && -ttl * 1000 < this.#config.staleUpToMs);
  }

  /** CoreDNS's freq: hits with no gap longer than the duration, and the TTL below the percentage. */
  #shouldPrefetch(item: Item, now: number): boolean {
    if (now - item.last > this.#config.prefetchDurationMs) item.hits = 1;
    else item.hits++;
    item.last = now;
    const threshold = Math.ceil((this.#config.prefetchPercentage / 100) * item.origTtl);
    return item.hits >= this.#config.prefetch && remaining(item, now) <= threshold;
  }

  #serveStale(req: Request, next: Next, key: CacheKey, item: Item, m: BoundMetrics): Reply | Promise<Reply> {
    if (this.#config.verifyStale) return this.#verifyStale(req, next, key, item, m);
    m.servedStale++;
    this.#refresh(req, next, key, item, m);
    return staleAnswer(item);
  }

  /** `verify`: ask upstream first; serve the stale entry only when that fails (RFC 8767 4). */
  async #verifyStale(req: Request, next: Next, key: CacheKey, item: Item, m: BoundMetrics): Promise<Reply> {
    try {
      const reply = await next();
      const rcode = isWireReply(reply) ? reply.rcode : reply.rcode;
      if (rcode === 0 || rcode === 3) return this.#answerMiss(req, key, reply, m);
    } catch (err) {
      this.#logger.debug(`refreshing ${req.qname} ${req.qtype} failed: ${(err as Error).message}`);
    }
    m.servedStale++;
    return staleAnswer(item);
  }

  /** A prefetch or stale refresh in the background; one per key at a time. */
  #refresh(req: Request, next: Next, key: CacheKey, item: Item, m: BoundMetrics): void {
    const flight = `${key.variant} ${key.name}`;
    if (this.#inflight.has(flight)) return;
    this.#inflight.add(flight);
    m.prefetch++;
    const run = async (): Promise<void> => {
      try {
        const fresh = this.#store(req, key, await next(), m);
        if (fresh) {
          // Keep the popularity gathered so far (CoreDNS's Freq.Reset).
          fresh.hits = item.hits;
          fresh.last = this.#now();
        }
      } catch (err) {
        this.#logger.debug(`refreshing ${req.qname} ${req.qtype} failed: ${(err as Error).message}`);
      } finally {
        this.#inflight.delete(flight);
      }
    };
    void run();
  }

  /** Stores the reply if it may be cached and answers with TTLs capped to the stored duration. */
  #answerMiss(req: Request, key: CacheKey, reply: Reply, m: BoundMetrics): Reply {
    const item = this.#store(req, key, reply, m);
    return item ? materialize(item, item.origTtl, false) : reply;
  }

  #store(req: Request, key: CacheKey, reply: Reply, m: BoundMetrics): Item | undefined {
    if (req.qtype === 'AXFR' || req.qtype === 'IXFR') return undefined;
    const w = wireOf(reply);
    if (w === undefined) return undefined;
    const { scan } = w;
    if (scan.flags & 0x0200 || (scan.flags >> 11) & 0xf) return undefined; // truncated, or not a QUERY
    const type = typify(scan);
    if (type === 'other') return undefined;
    const kind: Kind = type === 'noerror' || type === 'delegation' ? 'success' : 'denial';
    const limits = this.#config[kind];
    const duration = type === 'servfail' ? this.#config.servfailTtl : clamp(messageTtl(scan, type), limits.minTtl, limits.maxTtl);
    if (duration <= 0) return undefined;
    if (!questionMatches(w.wire, req.qname, qtypeCode(req.qtype), qclassCode(req.qclass))) {
      m.drops++;
      return undefined;
    }
    if (inZones(req.qname, this.#config.disable[kind])) return undefined;
    const now = this.#now();
    if (type === 'servfail' && this.#positiveServable(key, now)) return undefined;
    const bytes = withoutOpt(w);
    if (bytes === undefined) return undefined;
    const item: Item = { wire: bytes.wire, ttlOffsets: bytes.ttlOffsets, layout: bytes.layout, stored: now, origTtl: duration, kind, hits: 0, last: now };
    // One key lives in one store: an old entry in the other could shadow this one while stale.
    (kind === 'success' ? this.denial : this.success).delete(key.name, key.variant);
    m.evictions[kind] += (kind === 'success' ? this.success : this.denial).set(key.name, item, key.variant);
    m.entries.success.set(this.success.size);
    m.entries.denial.set(this.denial.size);
    return item;
  }

  /** A SERVFAIL never shadows a positive entry that could still be served. */
  #positiveServable(key: CacheKey, now: number): boolean {
    const p = this.success.peek(key.name, key.variant);
    return p !== undefined && this.#servable(remaining(p, now));
  }
}

/** The lower-cased qname, and type, class and the DO and CD bits as one number (no key string per query). */
export interface CacheKey {
  readonly name: string;
  readonly variant: number;
}

export function cacheKey(req: Request): CacheKey {
  return { name: req.qname, variant: cacheVariant(req) };
}

/** What tells a name's entries apart: type, class, DO and CD. */
function cacheVariant(req: Request): number {
  const flags = (req.do ? 2 : 0) | (req.cd ? 1 : 0);
  return ((qclassCode(req.qclass) + 1) * 65537 + qtypeCode(req.qtype) + 1) * 4 + flags;
}

function inZones(name: string, zones: readonly string[]): boolean {
  for (const z of zones) if (isInZone(name, z)) return true;
  return false;
}

function clamp(ttl: number, min: number, max: number): number {
  return Math.min(Math.max(ttl, min), max);
}

function qtypeCode(name: string): number {
  try {
    return typeCode(name);
  } catch {
    return -1;
  }
}

function qclassCode(name: string): number {
  const code = CLASS_CODES[name];
  if (code !== undefined) return code;
  const m = /^CLASS(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** An expired entry served stale (TTL 0), marked as such for the client (RFC 8767 suggests EDE 3). */
function staleAnswer(item: Item): Reply {
  return withExtendedError(materialize(item, 0, true), EdeCode.StaleAnswer);
}
