import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/config/errors.js';
import { testEnv } from '../pkg/test-env.js';
import { checksum, Reload } from './reload.js';

describe('reload', () => {
  let dir: string;
  let corefile: string;
  let imported: string;
  const open: Reload[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nodens-reload-'));
    corefile = join(dir, 'Corefile');
    imported = join(dir, 'zones.conf');
    writeFileSync(corefile, '. {\n    import zones.conf\n    reload\n}\n');
    writeFileSync(imported, 'whoami\n');
  });
  afterEach(() => {
    for (const r of open.splice(0)) r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A server stand-in: a reload reads the Corefile and fails on the word "broken", at its position. */
  function make(intervalMs = 60_000) {
    const env = testEnv({
      plugin: 'reload',
      reload: async () => {
        const text = readFileSync(corefile, 'utf8');
        const at = text.split('\n').findIndex((l) => l.includes('broken'));
        if (at >= 0) {
          throw new ConfigError({ file: corefile, line: at + 1, col: text.split('\n')[at]!.indexOf('broken') + 1 }, undefined, "unknown directive 'broken'", 'ERR_UNKNOWN_DIRECTIVE');
        }
      },
    });
    const r = new Reload([corefile, imported], intervalMs, env.control, env.logger, env.metrics);
    open.push(r);
    return { r, env };
  }

  it('does nothing while the files are unchanged', async () => {
    const { r, env } = make();
    expect(await r.check()).to.equal(false);
    expect(env.reloads).to.equal(0);
  });

  it('reloads when the config file changes, and when an imported file changes', async () => {
    const a = make();
    writeFileSync(corefile, '. {\n    import zones.conf\n    reload 10s\n}\n');
    expect(await a.r.check()).to.equal(true);
    expect(a.env.reloads).to.equal(1);
    const b = make();
    writeFileSync(imported, 'whoami\nlog\n');
    expect(await b.r.check()).to.equal(true);
    expect(b.env.reloads).to.equal(1);
  });

  it('logs a failed reload with its position, counts it, and does not retry the same broken file', async () => {
    const { r, env } = make();
    writeFileSync(corefile, '. {\n    import zones.conf\n      broken\n}\n');
    await r.check();
    expect(env.reloads).to.equal(1);
    expect(env.logger.lines).to.deep.equal([
      `[ERROR] plugin/reload: Corefile changed but reload failed: ${corefile}:3:7: unknown directive 'broken'`,
    ]);
    expect(await env.metrics.registry.getSingleMetricAsString('coredns_reload_failed_total')).to.match(/coredns_reload_failed_total 1$/);
    expect(await r.check(), 'same broken content').to.equal(false);
    expect(env.reloads).to.equal(1);
    writeFileSync(corefile, '. {\n    import zones.conf\n}\n');
    await r.check();
    expect(env.reloads, 'fixed file').to.equal(2);
  });

  it('polls on its own timer once started, and stops on close', async () => {
    const { r, env } = make(20);
    r.start();
    expect(await env.metrics.registry.getSingleMetricAsString('coredns_reload_version_info')).to.contain(
      `coredns_reload_version_info{hash="sha512",value="${checksum([corefile, imported])}"} 1`,
    );
    // A failed reload keeps polling (the old config still serves)...
    writeFileSync(corefile, 'broken\n');
    for (let i = 0; i < 100 && env.reloads === 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(env.reloads).to.equal(1);
    writeFileSync(corefile, 'still broken\n');
    for (let i = 0; i < 100 && env.reloads === 1; i++) await new Promise((res) => setTimeout(res, 10));
    expect(env.reloads).to.equal(2);
    // ...until close().
    r.close();
    writeFileSync(corefile, 'fixed\n');
    await new Promise((res) => setTimeout(res, 80));
    expect(env.reloads, 'no polling after close').to.equal(2);
  });

  it('checksums a missing file without throwing', () => {
    expect(checksum([join(dir, 'missing')])).to.match(/^[0-9a-f]{128}$/);
    expect(checksum([join(dir, 'missing')])).not.to.equal(checksum([corefile]));
  });
});
