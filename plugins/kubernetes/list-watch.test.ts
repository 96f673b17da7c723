// Our ListWatch against client-node's, side by side: the same lists and watch events in, the same callbacks
// and watch requests out (a deletion found by relist carries the object's identity, which is what is compared).
import type { KubernetesObject } from '@kubernetes/client-node';
import { ListWatch as ClientNodeListWatch } from '@kubernetes/client-node/dist/cache.js';
import type { Watch } from '@kubernetes/client-node/dist/watch.js';
import { expect } from 'chai';
import { ListWatch, type WatchParams } from './list-watch.js';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}
const obj = (ns: string, name: string, rv?: string): Obj => ({ metadata: { name, ...(ns ? { namespace: ns } : {}), ...(rv !== undefined ? { resourceVersion: rv } : {}) } });

/** One step: a list the next (re)list returns, a watch event, or the end of the current watch. */
type Step =
  | { list: Obj[]; rv: string }
  | { event: string; object: unknown }
  | { done: unknown };

/** Drives one informer through the steps; returns what it called back and what it asked for. */
async function drive(make: (watch: { watch: (...a: never[]) => Promise<{ abort(): void }> }, list: () => Promise<unknown>) => {
  on(verb: string, cb: (o: unknown) => void): void; start(): Promise<void>; stop(): Promise<void>;
}, steps: Step[]): Promise<string[]> {
  const log: string[] = [];
  const lists = steps.filter((s): s is { list: Obj[]; rv: string } => 'list' in s);
  let cb: ((phase: string, obj: unknown) => unknown) | undefined;
  let done: ((err: unknown) => unknown) | undefined;
  const watch = {
    watch: async (path: string, params: WatchParams, c: typeof cb, d: typeof done) => {
      log.push(`watch ${path} ${JSON.stringify(params)}`);
      cb = c;
      done = d;
      return { abort: () => log.push('abort') };
    },
  };
  const list = async () => {
    const next = lists.shift();
    if (!next) throw Object.assign(new Error('no list'), { statusCode: 500 });
    log.push(`list rv=${next.rv}`);
    return { metadata: { resourceVersion: next.rv }, items: next.list.map((o) => structuredClone(o)) };
  };
  const informer = make(watch as never, list);
  const id = (o: unknown) => {
    const m = (o as Obj).metadata;
    return `${m.namespace ?? ''}/${m.name}`;
  };
  informer.on('add', (o) => log.push(`add ${id(o)} ${(o as Obj).metadata.resourceVersion}`));
  informer.on('update', (o) => log.push(`update ${id(o)} ${(o as Obj).metadata.resourceVersion}`));
  informer.on('delete', (o) => log.push(`delete ${id(o)}`));
  informer.on('error', (e) => log.push(`error ${(e as Error).message}`));
  informer.on('connect', () => log.push('connect'));
  await informer.start();
  for (const s of steps) {
    if ('event' in s) {
      try {
        await cb!(s.event, structuredClone(s.object));
      } catch (err) {
        log.push(`handler threw ${(err as Error).message}`);
      }
    } else if ('done' in s) await done!(s.done);
  }
  await informer.stop();
  return log;
}

const STEPS: Step[] = [
  { list: [obj('a', 'x', '1'), obj('a', 'y', '2'), obj('b', 'z', '3'), obj('', 'cluster', '4')], rv: '10' },
  { event: 'ADDED', object: obj('a', 'w', '11') },
  { event: 'MODIFIED', object: obj('a', 'x', '1') },
  { event: 'MODIFIED', object: obj('a', 'x', '12') },
  { event: 'ADDED', object: obj('a', 'y', '2') },
  { event: 'MODIFIED', object: obj('c', 'new', '13') },
  { event: 'MODIFIED', object: obj('c', 'norv') },
  { event: 'MODIFIED', object: obj('c', 'norv') },
  { event: 'DELETED', object: obj('b', 'z', '14') },
  { event: 'DELETED', object: obj('b', 'gone', '15') },
  { event: 'BOOKMARK', object: { metadata: { resourceVersion: '16' } } },
  { event: 'ERROR', object: { code: 500 } },
  { event: 'MODIFIED', object: obj('a', 'y', '17') },
  { done: null },
  { event: 'ERROR', object: { code: 410 } },
  { done: Object.assign(new Error('gone'), { statusCode: 410 }) },
  // The relist: a/w and c/* are gone, a/x is at a new version, d/v is new.
  { list: [obj('a', 'x', '20'), obj('a', 'y', '17'), obj('', 'cluster', '4'), obj('d', 'v', '21')], rv: '22' },
  { event: 'ADDED', object: obj('d', 'u', '23') },
  { done: Object.assign(new Error('expired'), { code: 410 }) },
  { list: [], rv: '30' },
  { done: Object.assign(new Error('HTTP 500'), { statusCode: 500 }) },
];

describe('ListWatch (client-node\'s loop, without its imports)', () => {
  it('calls back and watches exactly as client-node\'s ListWatch does', async () => {
    const want = await drive((w, l) => new ClientNodeListWatch<KubernetesObject>('/x', w as unknown as Watch, l as never, false, 'app=a', 'f=b') as never, STEPS);
    const have = await drive((w, l) => new ListWatch<Obj>('/x', w as never, l as never, 'app=a', 'f=b') as never, STEPS);
    expect(have).to.deep.equal(want);
    // The script reaches every branch: relist deletions, same-version skips, 410 in both forms, errors.
    for (const s of ['delete a/w', 'delete c/new', 'update a/x 20', 'add d/v 21', 'error HTTP 500', 'watch /x {"resourceVersion":"17"']) {
      expect(want.some((l) => l.startsWith(s)), s).to.equal(true);
    }
    expect(want.filter((l) => l.startsWith('update a/y'))).to.deep.equal(['update a/y 17']);
  });

  it('reports a list that fails to the error callbacks and does not watch', async () => {
    const steps: Step[] = [];
    const want = await drive((w, l) => new ClientNodeListWatch<KubernetesObject>('/x', w as unknown as Watch, l as never, false) as never, steps);
    const have = await drive((w, l) => new ListWatch<Obj>('/x', w as never, l as never) as never, steps);
    expect(have).to.deep.equal(want).and.to.deep.equal(['connect', 'error no list']);
  });

  it('keeps one resourceVersion per object, not the object', async () => {
    const lw = new ListWatch<Obj>('/x', { watch: async () => ({ abort() {} }) }, async () => ({ metadata: { resourceVersion: '1' }, items: [obj('a', 'x', '1'), obj('b', 'y', '2')] }));
    await lw.start();
    expect(lw.size).to.equal(2);
    expect(lw.latestResourceVersion()).to.equal('1');
    await lw.stop();
  });
});
