import { expect } from 'chai';
import type { Handler, PluginInstance } from '../../core/plugin.js';
import { testEnv } from '../pkg/test-env.js';
import type { Ready } from './ready.js';
import { setup } from './setup.js';

/** A plugin whose readiness the test sets, counting how often it is asked. */
function flag(ready: boolean): Handler & { value: boolean; asked: number } {
  const h = {
    value: ready,
    asked: 0,
    ready: () => {
      h.asked++;
      return h.value;
    },
  };
  return h;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

describe('ready endpoint', () => {
  const open: Ready[] = [];
  afterEach(async () => {
    for (const r of open.splice(0)) await r.close();
  });

  async function start(instances: PluginInstance[], monitor?: 'until-ready' | 'continuously') {
    const env = testEnv({ plugin: 'ready', instances: () => instances });
    const r = setup({ address: '127.0.0.1:0', ...(monitor ? { monitor } : {}) }, env) as Ready;
    open.push(r);
    await env.startup();
    return { r, env, url: `${r.url()}/ready` };
  }

  it('is 503 with the sorted names of plugins not ready, then 200 OK once all are', async () => {
    const k8s = flag(false);
    const etcd = flag(false);
    const { url, env } = await start([
      { name: 'kubernetes', zones: ['cluster.local'], handler: k8s },
      { name: 'etcd', zones: ['skydns.local'], handler: etcd },
      { name: 'forward', zones: [''], handler: { serve: (_r, next) => next() } },
    ]);
    expect(await get(url)).to.deep.equal({ status: 503, body: 'etcd,kubernetes' });
    expect(env.logger.lines).to.include('[INFO] plugin/ready: Plugins not ready: "etcd,kubernetes"');
    etcd.value = true;
    expect(await get(url)).to.deep.equal({ status: 503, body: 'kubernetes' });
    k8s.value = true;
    expect(await get(url)).to.deep.equal({ status: 200, body: 'OK' });
  });

  it('lists a plugin once when several of its instances are not ready', async () => {
    const { url } = await start([
      { name: 'kubernetes', zones: ['a'], handler: flag(false) },
      { name: 'kubernetes', zones: ['b'], handler: flag(false) },
    ]);
    expect((await get(url)).body).to.equal('kubernetes');
  });

  it('stops asking a plugin once it was ready (until-ready), keeps asking with continuously', async () => {
    const once = flag(true);
    const always = flag(true);
    const a = await start([{ name: 'kubernetes', zones: [''], handler: once }]);
    const b = await start([{ name: 'kubernetes', zones: [''], handler: always }], 'continuously');
    for (let i = 0; i < 3; i++) {
      expect((await get(a.url)).status).to.equal(200);
      expect((await get(b.url)).status).to.equal(200);
    }
    expect(once.asked).to.equal(1);
    expect(always.asked).to.equal(3);
    always.value = false;
    expect((await get(b.url)).status).to.equal(503);
  });

  it('fails from the start of shutdown (lameduck)', async () => {
    const { url, env } = await start([]);
    expect((await get(url)).status).to.equal(200);
    await env.shutdown();
    expect(await get(url)).to.deep.equal({ status: 503, body: 'Shutting down' });
  });
});
