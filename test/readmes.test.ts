// Documentation that cannot rot: every config example in the READMEs loads, the self-contained ones serve,
// plugin READMEs keep CoreDNS's sections, relative links resolve, and the root README's plugin compiles and answers.
//
// The rules a README follows for its examples to be checked (CoreDNS's habit of testing README Corefiles):
// - A Corefile example is a fenced block (``` or ~~~) whose info string is `corefile`. It must load with the
//   real config loader (every plugin's parse and schema); errors point at the README's own lines.
// - A block marked `yaml` (or `yml`) with a `servers:` line is a YAML config and must load the same way.
// - A block marked `text` is never read as config: use it for output and for examples that are meant to fail.
// - An unmarked or `txt` block that looks like a Corefile fails the test (mark it `corefile`, or `text`).
//   It looks like one when its first line that is not blank or a `#` comment is server keys and `{`. A key is
//   `[dns://]ZONE[:PORT]` where ZONE is `.`, a dotted name or a CIDR, or any word with a scheme or a port: a
//   bare word (`errors {`) starts a directive's syntax, and a line with placeholders (`cache [TTL] {`) is syntax.
// - An example whose plugins need no peer (no forward, no etcd; kubernetes only with `manifests`) is also
//   started: ports rewritten to 0 (server keys, and health/ready/prometheus addresses, given or defaulted),
//   `bind 127.0.0.1` added to each server block, the files it names created in a temp dir (FILES), and one
//   UDP query sent to its first zone (the root zone: example.org) must be answered (not REFUSED) with no
//   error logged but the chain's end ("no next plugin found": examples with health or log alone).
// A plugin README's `##` sections start Name, Description, Syntax, Examples; any others follow, with Metrics,
// Ready and See Also (when present) in that order and See Also last.
import { expect } from 'chai';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigFile, loadConfigText } from '../core/config/load.js';
import type { Config } from '../core/config/types.js';
import { createRegistry } from '../core/create.js';
import { Rcode, type AnyPlugin } from '../core/index.js';
import { startServer } from '../core/testing.js';
import whoami from '../examples/custom-plugin/index.js';
import { fencedBlocks, forTest, links, looksLikeCorefile, sections, type FencedBlock } from './fixtures/markdown.js';
import motd from './fixtures/motd-plugin.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PLUGIN_READMES = readdirSync(path.join(ROOT, 'plugins'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(ROOT, 'plugins', d.name, 'README.md')))
  .map((d) => `plugins/${d.name}/README.md`);
const EXAMPLE_READMES = readdirSync(path.join(ROOT, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(ROOT, 'examples', d.name, 'README.md')))
  .map((d) => `examples/${d.name}/README.md`);
const READMES = ['README.md', ...PLUGIN_READMES, ...EXAMPLE_READMES];

const EXTERNAL: readonly AnyPlugin[] = [whoami];
/** For `{$PORT}` in the prometheus README. */
const ENV = { PORT: '9253' };
/** Files the examples name by relative path, created in the folder the examples load from. */
const FILES: Record<string, string> = {
  'example.hosts': '10.0.0.1 example.org\n10.0.0.2 www.example.org\n',
  'cluster.yaml': path.join(ROOT, 'examples/demo/cluster.yaml'),
};
/** Plugins that need a peer (an upstream, etcd) to serve. */
const NEEDS_PEER = new Set(['forward', 'etcd']);

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** The README text with the block body at its own line numbers, so errors name the README's line. */
const atLine = (b: FencedBlock): string => '\n'.repeat(b.line) + b.body;

function selfContained(config: Config): boolean {
  return config.servers.every((s) => s.plugins.every((p) =>
    !NEEDS_PEER.has(p.name) && (p.name !== 'kubernetes' || (p.options as { manifests?: unknown }).manifests !== undefined)));
}

describe('README examples', function () {
  const registry = createRegistry(EXTERNAL);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nodens-readmes-'));
    for (const [name, content] of Object.entries(FILES)) {
      if (path.isAbsolute(content)) copyFileSync(content, path.join(dir, name));
      else writeFileSync(path.join(dir, name), content);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the rule tells Corefiles from syntax lines', () => {
    const rows: [string, boolean][] = [
      ['. {\n  hosts\n}', true],
      ['# comment\n\nexample.org:53 {', true],
      ['10.0.0.0/17 cluster.local {', true],
      ['dns://.:53 {', true],
      ['errors {\n  stacktrace\n}', false],
      ['cache [TTL] [ZONES...] {', false],
      ['etcd skydns.local 10.0.0.0/24 {', false],
      ['whoami', false],
    ];
    for (const [body, want] of rows) expect(looksLikeCorefile(body), body).to.equal(want);
    expect(forTest('.:53 {\n    health localhost:8091 {\n    }\n    ready\n    log . {combined}\n}'))
      .to.equal('.:0 {\n    bind 127.0.0.1\n    health localhost:0 {\n    }\n    ready 127.0.0.1:0\n    log . {combined}\n}');
  });

  for (const readme of READMES) {
    describe(readme, () => {
      const blocks = fencedBlocks(read(readme));

      it('marks every Corefile example `corefile`', () => {
        const unmarked = blocks.filter((b) => (b.info === '' || b.info === 'txt') && looksLikeCorefile(b.body));
        expect(unmarked.map((b) => `${readme}:${b.line}`), 'mark these blocks corefile (or text if they are meant to fail)').to.deep.equal([]);
      });

      for (const b of blocks.filter((x) => x.info === 'corefile')) {
        it(`loads the Corefile at line ${b.line} (and serves it when self-contained)`, async () => {
          const config = loadConfigText(atLine(b), readme, { registry, env: ENV, configDir: dir });
          expect(config.servers).to.not.be.empty;
          if (!selfContained(config)) return;
          const file = path.join(dir, `${readme.replace(/\W+/g, '-')}-${b.line}.Corefile`);
          const corefile = forTest(b.body);
          writeFileSync(file, corefile);
          const s = await startServer(corefile, { file, plugins: EXTERNAL, env: ENV });
          try {
            const zone = config.servers[0]!.keys[0]!.zone;
            const reply = await s.query(zone === '' ? 'example.org' : zone, 'A');
            expect(reply.qr).to.equal(true);
            expect(reply.question[0]?.name).to.equal(zone === '' ? 'example.org' : zone);
            // SERVFAIL is fine when it is the end of the chain (an example with health alone) or hosts' answer for
            // a name it lacks (CoreDNS's choice); an error a plugin threw is not.
            // REFUSED is fine too from an acl that blocks the test's own address (`allow net ...` then `block`).
            const refusedByAcl = config.servers[0]!.plugins.some((p) => p.name === 'acl') ? [Rcode.REFUSED] : [];
            expect(reply.rcode, s.logs.join('\n')).to.be.oneOf([Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.SERVFAIL, ...refusedByAcl]);
            expect(s.logs.filter((l) => l.startsWith('[ERROR]') && !l.endsWith('no next plugin found'))).to.deep.equal([]);
          } finally {
            await s.close();
          }
        });
      }

      for (const b of blocks.filter((x) => (x.info === 'yaml' || x.info === 'yml') && /^servers:/m.test(x.body))) {
        it(`loads the YAML config at line ${b.line}`, () => {
          const file = path.join(dir, `${readme.replace(/\W+/g, '-')}-${b.line}.yaml`);
          writeFileSync(file, atLine(b));
          const config = loadConfigFile(file, { registry, env: ENV });
          expect(config.servers).to.not.be.empty;
        });
      }
    });
  }
});

describe('README structure', () => {
  const REQUIRED = ['Name', 'Description', 'Syntax', 'Examples'];
  const OPTIONAL = ['Metrics', 'Ready', 'See Also'];

  for (const readme of [...PLUGIN_READMES, ...EXAMPLE_READMES]) {
    it(`${readme} has CoreDNS's sections in order`, () => {
      const found = sections(read(readme));
      expect(found.slice(0, REQUIRED.length), 'Name, Description, Syntax, Examples come first').to.deep.equal(REQUIRED);
      const optional = found.filter((s) => OPTIONAL.includes(s));
      expect(optional, 'Metrics, Ready, See Also in this order').to.deep.equal(OPTIONAL.filter((s) => optional.includes(s)));
      if (found.includes('See Also')) expect(found.at(-1), 'See Also is last').to.equal('See Also');
    });
  }

  for (const readme of PLUGIN_READMES) {
    it(`${readme} is titled with its plugin's name`, () => {
      expect(read(readme).split('\n')[0]).to.equal(`# ${readme.split('/')[1]}`);
    });
  }

  it('the root README starts with the two commands', () => {
    const first = fencedBlocks(read('README.md'))[0]!;
    expect(first.body).to.include('npm ci && npm start');
    expect(first.body).to.include('npm test');
  });

  for (const readme of READMES) {
    it(`${readme}: every relative link points to an existing file`, () => {
      const broken = links(read(readme))
        .filter(({ target }) => !/^([a-z][\w+.-]*:|#)/i.test(target))
        .filter(({ target }) => !existsSync(path.resolve(ROOT, path.dirname(readme), decodeURI(target.replace(/#.*$/, '')))))
        .map(({ target, line }) => `${readme}:${line}: ${target}`);
      expect(broken).to.deep.equal([]);
    });
  }
});

describe('README: Writing a plugin', () => {
  it('the snippet is test/fixtures/motd-plugin.ts', () => {
    const readme = read('README.md');
    const at = readme.indexOf('## Writing a plugin');
    expect(at).to.be.greaterThan(-1);
    const snippet = fencedBlocks(readme.slice(at)).find((b) => b.info === 'ts');
    const fixture = read('test/fixtures/motd-plugin.ts').replace("from '../../core/index.js'", "from 'nodens'");
    expect(snippet?.body.trim()).to.equal(fixture.trim());
  });

  it('answers a TXT query through a server, and passes other queries on', async () => {
    const s = await startServer('example.org {\n    motd "hello from the README"\n    whoami\n}', { plugins: [motd, whoami] });
    try {
      const txt = await s.query('motd.example.org', 'TXT');
      expect(txt.rcode).to.equal(Rcode.NOERROR);
      expect(txt.aa).to.equal(true);
      expect(txt.answer).to.deep.include({ name: 'motd.example.org', ttl: 60, class: 'IN', type: 'TXT', data: ['hello from the README'] });
      // An A query is not motd's: whoami (after it in the chain) answers with an empty answer section.
      const a = await s.query('motd.example.org', 'A');
      expect(a.answer).to.deep.equal([]);
      expect(a.additional.map((r) => r.type)).to.include('SRV');
    } finally {
      await s.close();
    }
  });
});
