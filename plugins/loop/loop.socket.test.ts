// A forward to our own port, with loop, must stop the server with CoreDNS's message.
import { expect } from 'chai';
import { createServer } from '../../core/create.js';
import { createLogger } from '../../core/log.js';
import type { AnyPlugin } from '../../core/plugin.js';
import type { DnsServer } from '../../core/server.js';
import { builtinPlugins } from '../index.js';
import { freePort } from '../pkg/test-env.js';

describe('loop over sockets', () => {
  let server: DnsServer | undefined;
  after(async () => {
    await server?.close();
  });

  it('detects `forward . 127.0.0.1:<own port>` and calls fatal once', async function () {
    this.timeout(15_000);
    // forward registers itself in plugins/index.ts; until then it is loaded as an external plugin.
    const external: AnyPlugin[] = builtinPlugins.some((p) => p.name === 'forward')
      ? []
      : [(await import('../forward/index.js')).default as AnyPlugin];
    const port = await freePort();
    const fatals: string[] = [];
    const logs: string[] = [];
    server = await createServer({
      corefile: `.:${port} {\n    loop\n    forward . 127.0.0.1:${port}\n}\n`,
      defaultBind: ['127.0.0.1'],
      plugins: external,
      logger: createLogger({ sink: { write: (l) => logs.push(l) } }),
      onFatal: (m) => fatals.push(m),
    });
    for (let i = 0; i < 1000 && fatals.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fatals).to.have.length(1);
    expect(fatals[0]).to.match(
      new RegExp(`^Loop \\(127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${port}\\) detected for zone "\\.", see https://coredns\\.io/plugins/loop#troubleshooting\\. Query: "HINFO \\d+\\.\\d+\\."$`),
    );
    expect(logs.some((l) => l.startsWith('[ERROR] plugin/loop: Loop ('))).to.equal(true);
  });
});
