// `--validate` says OK only to configs that start: every example config of the repo (Corefile.example,
// examples/*, every README's Corefile and YAML blocks) is read as --validate reads it and, when accepted,
// started. Only what --validate by design leaves out is swapped: ports become 0 on 127.0.0.1, and remote
// services (forward's upstreams, the Kubernetes API, etcd) point at a closed local port.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asConfigError } from '../core/config/errors.js';
import type { Config, PluginEntry } from '../core/config/types.js';
import { createServer, readConfig } from '../core/create.js';
import { memoryLogger } from '../core/log.js';
import type { AnyPlugin } from '../core/plugin.js';
import { createRegistry } from '../core/create.js';
import whoami from '../examples/custom-plugin/index.js';
import { fencedBlocks } from './fixtures/markdown.js';
import motd from './fixtures/motd-plugin.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const EXTERNAL: readonly AnyPlugin[] = [whoami, motd];
const ENV = { PORT: '9253' };
const CLOSED = '127.0.0.1:9';

interface Example { name: string; file: string; text: string }

function examples(dir: string): Example[] {
  const out: Example[] = [];
  const add = (file: string) => out.push({ name: path.relative(ROOT, file), file, text: fs.readFileSync(file, 'utf8') });
  add(path.join(ROOT, 'Corefile.example'));
  for (const d of fs.readdirSync(path.join(ROOT, 'examples'))) {
    const f = path.join(ROOT, 'examples', d, 'Corefile');
    if (fs.existsSync(f)) add(f);
  }
  const readmes = ['README.md', ...['plugins', 'examples'].flatMap((top) => fs.readdirSync(path.join(ROOT, top))
    .map((d) => path.join(top, d, 'README.md')).filter((f) => fs.existsSync(path.join(ROOT, f))))];
  for (const readme of readmes) {
    for (const b of fencedBlocks(fs.readFileSync(path.join(ROOT, readme), 'utf8'))) {
      const yaml = (b.info === 'yaml' || b.info === 'yml') && /^servers:/m.test(b.body);
      if (b.info !== 'corefile' && !yaml) continue;
      // In the temp folder, so the files the examples name by relative path are found.
      const file = path.join(dir, `${readme.replace(/\W+/g, '-')}-${b.line}.${yaml ? 'yaml' : 'Corefile'}`);
      fs.writeFileSync(file, b.body);
      out.push({ name: `${readme}:${b.line}`, file, text: b.body });
    }
  }
  return out;
}

/** The config with listeners on 127.0.0.1 port 0 and remote services at a closed local port. */
function local(config: Config): Config {
  const patch = (p: PluginEntry): PluginEntry => {
    const o = p.options as Record<string, unknown>;
    switch (p.name) {
      case 'health': case 'ready': case 'prometheus': return { ...p, options: { ...o, address: '127.0.0.1:0' } };
      case 'forward': return { ...p, options: { ...o, to: [CLOSED] } };
      case 'etcd': return { ...p, options: { ...o, endpoint: [`http://${CLOSED}`] } };
      case 'kubernetes': {
        if (o.manifests) return p;
        const { kubeconfig: _k, tls: _t, ...rest } = o;
        return { ...p, options: { ...rest, endpoint: `http://${CLOSED}`, startup_timeout: '50ms' } };
      }
      default: return p;
    }
  };
  return {
    ...config,
    servers: config.servers.map((s) => ({ ...s, bind: ['127.0.0.1'], keys: s.keys.map((k) => ({ ...k, port: 0 })), plugins: s.plugins.map(patch) })),
  };
}

describe('every example config that --validate accepts also starts', function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-validate-starts-'));
  fs.writeFileSync(path.join(dir, 'example.hosts'), '10.0.0.1 example.org\n');
  fs.copyFileSync(path.join(ROOT, 'examples/demo/cluster.yaml'), path.join(dir, 'cluster.yaml'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const all = examples(dir);
  const started: string[] = [];

  it('finds the examples (the walk is not empty)', () => {
    expect(all.length).to.be.greaterThan(20);
    expect(all.map((e) => e.name)).to.include.members(['Corefile.example', 'examples/demo/Corefile']);
  });

  for (const ex of all) {
    it(ex.name, async () => {
      const registry = createRegistry(EXTERNAL);
      let config: Config;
      try {
        config = readConfig({ file: ex.file, env: ENV, defaultPort: 53 }, registry, memoryLogger());
      } catch (err) {
        if (asConfigError(err)) return; // rejected: nothing to start (the README test says whether it should load)
        throw err;
      }
      const logger = memoryLogger();
      const server = await createServer({ file: ex.file, env: ENV, config: local(config), plugins: EXTERNAL, logger });
      expect(server.addresses().length, logger.lines.join('\n')).to.be.greaterThan(0);
      await server.close();
      started.push(ex.name);
    });
  }

  it('accepted and started nearly all of them (the examples are meant to be valid)', () => {
    expect(started.length).to.be.at.least(all.length - 2);
  });
});
