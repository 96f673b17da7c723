import { expect } from 'chai';
import { freePort, testEnv } from '../pkg/test-env.js';
import type { Health } from './health.js';
import { setup } from './setup.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

describe('health endpoint', () => {
  const open: Health[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });

  async function start(options: { address?: string; lameduck?: string }) {
    const env = testEnv({ plugin: 'health' });
    const h = setup({ address: '127.0.0.1:0', ...options }, env) as Health;
    open.push(h);
    expect(h.url(), 'binds nothing before startup').to.equal(undefined);
    await env.startup();
    return { h, env };
  }

  it('answers 200 OK on /health and 404 elsewhere', async () => {
    const { h } = await start({});
    expect(await get(`${h.url()}/health`)).to.deep.equal({ status: 200, body: 'OK' });
    expect((await get(`${h.url()}/other`)).status).to.equal(404);
  });

  it('fails /health during lameduck, for the lameduck duration, and closes afterwards', async () => {
    const { h, env } = await start({ lameduck: '300ms' });
    const url = `${h.url()}/health`;
    const t0 = performance.now();
    const shutdown = env.shutdown();
    expect((await get(url)).status).to.equal(503);
    await shutdown;
    expect(performance.now() - t0).to.be.at.least(290);
    expect(env.logger.lines).to.include('[INFO] plugin/health: Going into lameduck mode for 0.3s');
    await h.close();
    let refused = false;
    await get(url).catch(() => (refused = true));
    expect(refused, 'listener closed').to.equal(true);
  });

  it('shares one listener between blocks naming the same address', async () => {
    const port = await freePort();
    const first = await start({ address: `127.0.0.1:${port}` });
    const second = await start({ address: `127.0.0.1:${port}` });
    expect(second.h.url()).to.equal(first.h.url());
    await first.h.close();
    expect((await get(`${second.h.url()}/health`)).status, 'still served by the other block').to.equal(200);
  });

  it('fails startup when the address is taken by someone else', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const env = testEnv();
      const h = setup({ address: `127.0.0.1:${port}` }, env) as Health;
      open.push(h);
      let err: unknown;
      await env.startup().catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('times its own endpoint once a second', async function () {
    this.timeout(5000);
    const { env } = await start({});
    const deadline = Date.now() + 3000;
    let count = 0;
    while (Date.now() < deadline && count === 0) {
      await new Promise((r) => setTimeout(r, 100));
      const m = await env.metrics.registry.getSingleMetricAsString('coredns_health_request_duration_seconds');
      count = Number(/_count (\d+)/.exec(m)?.[1] ?? 0);
    }
    expect(count).to.be.at.least(1);
  });
});
