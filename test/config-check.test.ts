// A config is checked like a compiler checks code: every independent error of one run, in file order,
// each at its exact position; warnings for what loads but cannot work as written.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigErrors } from '../core/config/errors.js';
import { loadConfigText } from '../core/config/load.js';
import { createRegistry, createServer } from '../core/create.js';
import { memoryLogger } from '../core/log.js';
import { definePlugin } from '../core/plugin.js';
import { configErrorOf, queryServer } from '../core/testing.js';

interface Want { line: number; col: number; code: string; msg: RegExp }

function allErrors(text: string, file: string, env: Record<string, string> = {}): ConfigErrors {
  const err = configErrorOf(() => loadConfigText(text, file, { registry: createRegistry(), env, configDir: '/nonexistent' }));
  expect(err).to.be.instanceOf(ConfigErrors);
  return err as ConfigErrors;
}

function expectErrors(err: ConfigErrors, want: readonly Want[]): void {
  const got = err.errors.map((e) => ({ line: e.pos?.line, col: e.pos?.col, code: e.code, message: e.message }));
  expect(got.map(({ line, col, code }) => ({ line, col, code })), err.report()).to.deep.equal(want.map(({ line, col, code }) => ({ line, col, code })));
  want.forEach((w, i) => expect(got[i]!.message).to.match(w.msg));
}

describe('config check: every error in one run', () => {
  it('a Corefile with 14 mistakes gets 14 errors, in file order, at their positions, with carets and a count', () => {
    const corefile = [
      'prometheus :19153', //                     1  a plugin written at the top level
      '',
      'example.org {',
      '    hosts {',
      '        fallthru', //                       5  a CoreDNS-era misspelling
      '    }',
      '    forward . {$UPSTREAM}', //              7  an unset variable
      '    cache thirty', //                       8  a number-looking zone
      '    log {',
      '        class sucess', //                   10 a typo in a value
      '    }',
      '    errrors', //                            12 a typo in a directive
      '}',
      '',
      '. {',
      '    forward . 10.0.0.300', //               16 a bad upstream address
      '    cache 30 {',
      '        success abc', //                    18 not a number
      '        prefetch 10 1m 10%',
      '    }',
      '    reload 1s', //                          21 below the minimum
      '    health :8080 :9090', //                 22 too many arguments
      '    paht', //                               23 not a directive at all
      '}',
      'example.org {', //                         25 a zone served twice
      '    loadbalance weighted', //               26 unsupported policy
      '    kubernetes in-addr.arpa', //            27 a check() error
      '}',
      '',
    ].join('\n').replace(/ +\/\/.*$/gm, '');
    const err = allErrors(corefile, 'Corefile');
    expectErrors(err, [
      { line: 1, col: 1, code: 'ERR_KEY_IS_DIRECTIVE', msg: /^Corefile:1:1: 'prometheus' is a plugin, not a zone: did you mean to put this line inside a server block\?$/ },
      { line: 5, col: 9, code: 'ERR_UNKNOWN_PROPERTY', msg: /plugin\/hosts: unknown property 'fallthru' \(did you mean 'fallthrough'\?\)$/ },
      { line: 7, col: 15, code: 'ERR_BAD_VALUE', msg: /plugin\/forward: '' is not an IP address.*\(\{\$UPSTREAM\} is not set in the environment\)$/ },
      { line: 8, col: 11, code: 'ERR_ZONE_LOOKS_LIKE_NUMBER', msg: /plugin\/cache: 'thirty' is read as a zone here, but it looks like a number/ },
      { line: 10, col: 15, code: 'ERR_BAD_VALUE', msg: /plugin\/log: 'sucess' must be one of .*\(did you mean 'success'\?\)$/ },
      { line: 12, col: 5, code: 'ERR_UNKNOWN_DIRECTIVE', msg: /unknown directive 'errrors' \(did you mean 'errors'\?\)$/ },
      { line: 16, col: 15, code: 'ERR_BAD_VALUE', msg: /plugin\/forward: '10\.0\.0\.300' is not an IP address/ },
      { line: 18, col: 17, code: 'ERR_BAD_VALUE', msg: /plugin\/cache: 'abc' is not an integer$/ },
      { line: 21, col: 12, code: 'ERR_BAD_VALUE', msg: /plugin\/reload: interval value must be greater or equal to 2s$/ },
      { line: 22, col: 18, code: 'ERR_ARG_COUNT', msg: /plugin\/health: wrong argument count: want 0 to 1, got 2$/ },
      { line: 23, col: 5, code: 'ERR_UNKNOWN_DIRECTIVE', msg: /unknown directive 'paht'$/ },
      { line: 25, col: 1, code: 'ERR_DUPLICATE', msg: /zone 'example\.org' on port 53 is already served \(by the key at Corefile:3:1\)$/ },
      { line: 26, col: 17, code: 'ERR_BAD_VALUE', msg: /plugin\/loadbalance: policy 'weighted' is not supported/ },
      { line: 27, col: 5, code: 'ERR_BAD_VALUE', msg: /plugin\/kubernetes: at least one zone must be a non-reverse zone$/ },
    ]);
    const report = err.report().split('\n');
    expect(report.at(-1)).to.equal('14 errors in Corefile');
    // Each error is followed by its source line and a caret under the column.
    expect(report.slice(3, 6)).to.deep.equal([
      "Corefile:5:9: plugin/hosts: unknown property 'fallthru' (did you mean 'fallthrough'?)",
      '            fallthru',
      '            ^',
    ]);
  });

  it('a YAML config with 13 mistakes gets 13 errors, in file order, at their positions', () => {
    const yaml = [
      'servers:',
      '  - zones: [example.org]',
      '    bind: [127.0.0.300]', //                                     3
      '    plugins:',
      '      - hosts: { fallthru: [] }', //                              5
      '      - forward: { from: ., to: ["10.0.0.300"] }', //             6 (schema-valid; check() refuses it)
      '      - cache: { ttl: thirty }', //                               7
      '      - errrors', //                                              8
      '      - reload: { interval: 1s }', //                             9
      '      - log: { class: [sucess] }', //                             10
      '      - kubernetes: { zones: [in-addr.arpa] }', //                11
      '  - zones: [example.org, "bad:port"]', //                         12 (twice)
      '    plugins:',
      '      - forward: { from: ., to: ["1.1.1.1"], expire: soon }', //  14
      '      - loadbalance: { policy: weighted }', //                    15
      '      - hosts: { ttl: -1 }', //                                   16
      '',
    ].join('\n').replace(/ +\/\/.*$/gm, '');
    const err = allErrors(yaml, 'nodens.yaml');
    expectErrors(err, [
      { line: 3, col: 12, code: 'ERR_BAD_VALUE', msg: /bind: '127\.0\.0\.300' is not an IP address$/ },
      { line: 5, col: 18, code: 'ERR_UNKNOWN_PROPERTY', msg: /plugin\/hosts: unknown property 'fallthru' \(did you mean 'fallthrough'\?\)$/ },
      { line: 6, col: 34, code: 'ERR_BAD_VALUE', msg: /plugin\/forward: '10\.0\.0\.300' is not an IP address/ },
      { line: 7, col: 23, code: 'ERR_SCHEMA', msg: /plugin\/cache: ttl 'thirty' must be a whole number$/ },
      { line: 8, col: 9, code: 'ERR_UNKNOWN_DIRECTIVE', msg: /unknown directive 'errrors' \(did you mean 'errors'\?\)$/ },
      { line: 9, col: 29, code: 'ERR_BAD_VALUE', msg: /plugin\/reload: interval value must be greater or equal to 2s$/ },
      { line: 10, col: 24, code: 'ERR_SCHEMA', msg: /plugin\/log: class\[0\] 'sucess' must be one of .*\(did you mean 'success'\?\)$/ },
      { line: 11, col: 30, code: 'ERR_BAD_VALUE', msg: /plugin\/kubernetes: at least one zone must be a non-reverse zone$/ },
      { line: 12, col: 13, code: 'ERR_DUPLICATE', msg: /zone 'example\.org' on port 53 is already served \(by the key at nodens\.yaml:2:13\)$/ },
      { line: 12, col: 26, code: 'ERR_BAD_VALUE', msg: /'bad:port': bad port 'port' \(want 0-65535\)$/ },
      { line: 14, col: 54, code: 'ERR_SCHEMA', msg: /plugin\/forward: expire 'soon' is not a duration \(like 500ms, 5s, 1m30s\)$/ },
      { line: 15, col: 32, code: 'ERR_SCHEMA', msg: /plugin\/loadbalance: policy 'weighted' must be one of "round_robin"$/ },
      { line: 16, col: 23, code: 'ERR_SCHEMA', msg: /plugin\/hosts: ttl must be >= 1$/ },
    ]);
    expect(err.report().split('\n').at(-1)).to.equal('13 errors in nodens.yaml');
  });

  it('stops counting at 20 and says so', () => {
    const lines = Array.from({ length: 25 }, (_, i) => `    nosuch${i}`);
    const err = allErrors(`. {\n${lines.join('\n')}\n}\n`, 'Corefile');
    expect(err.errors).to.have.length(20);
    expect(err.report().split('\n').at(-1)).to.equal('20+ errors in Corefile (stopped counting)');
  });

  it('a syntax error is reported alone: the structure after it cannot be trusted', () => {
    const err = allErrors('. {\n    nosuch\n}\nexample.org {\n    hosts {\n        fallthrough\n}\n', 'Corefile');
    expectErrors(err, [{ line: 5, col: 11, code: 'ERR_UNCLOSED_BRACE', msg: /the '\}' at 7:1 is indented like an outer block's/ }]);
  });
});

describe('config check: schema messages in words, never a regex', () => {
  const rows: { options: string; want: string }[] = [
    { options: 'health: { address: "8080" }', want: "nodens.yaml:4:28: plugin/health: address '8080' is not an address (like :8080 or 127.0.0.1:8080)" },
    { options: 'etcd: { endpoint: [localhost:2379] }', want: "nodens.yaml:4:28: plugin/etcd: endpoint[0] 'localhost:2379' must start with http:// or https://" },
    { options: 'cache: { servfail: 5 minutes }', want: "nodens.yaml:4:28: plugin/cache: servfail '5 minutes' is not a duration (like 500ms, 5s, 1m30s)" },
  ];
  for (const row of rows) {
    it(row.options, () => {
      const err = configErrorOf(() => loadConfigText(`servers:\n  - zones: [.]\n    plugins:\n      - ${row.options}\n`, 'nodens.yaml', { registry: createRegistry() }));
      expect(err.message).to.equal(row.want);
      expect(err.message).to.not.match(/[\^$]|\\d/);
    });
  }
});

describe('config check: lints', () => {
  const registry = createRegistry();
  const warningsOf = (text: string, file = 'Corefile'): string[] => {
    const warnings: string[] = [];
    loadConfigText(text, file, { registry, env: {}, configDir: '/nonexistent', onWarning: (w) => warnings.push(w) });
    return warnings.map((w) => w.split('\n')[0]!);
  };
  const rows: { name: string; text: string; file?: string; want: string[] }[] = [
    { name: 'an empty chain', text: 'example.org {\n}\n', want: ['Corefile:1:1: this server block has no plugins: every query for its zones will get SERVFAIL'] },
    {
      name: 'hosts without fallthrough hides forward',
      text: '. {\n  forward . 127.0.0.1\n  hosts {\n    10.0.0.1 a.example\n  }\n}\n',
      want: ["Corefile:2:3: plugin/forward: forward can never answer: hosts (at 3:3) runs before it and answers every query for . itself (add 'fallthrough' to hosts?)"],
    },
    {
      name: 'kubernetes for the whole block hides forward (YAML too)',
      text: 'servers:\n  - zones: [cluster.local]\n    plugins:\n      - kubernetes: { manifests: [c.yaml] }\n      - forward: { from: ., to: [127.0.0.1] }\n',
      file: 'c.yaml',
      want: ["c.yaml:5:9: plugin/forward: forward can never answer: kubernetes (at 4:9) runs before it and answers every query for cluster.local. itself (add 'fallthrough' to kubernetes?)"],
    },
    { name: 'fallthrough: no warning', text: '. {\n  forward . 127.0.0.1\n  hosts {\n    fallthrough\n  }\n}\n', want: [] },
    { name: 'hosts for part of the block: no warning', text: '. {\n  forward . 127.0.0.1\n  hosts /etc/hosts example.org\n}\n', want: [] },
    { name: 'forward with except: no warning', text: '. {\n  forward . 127.0.0.1 {\n    except a.example\n  }\n  forward . 127.0.0.2\n}\n', want: [] },
  ];
  for (const row of rows) it(row.name, () => expect(warningsOf(row.text, row.file)).to.deep.equal(row.want));

  const errorRows: { name: string; text: string; line: number; col: number; code: string }[] = [
    { name: 'a plugin name as a key, with a brace', text: 'log {\n}\n', line: 1, col: 1, code: 'ERR_KEY_IS_DIRECTIVE' },
    { name: 'cache 30s', text: '. {\n  cache 30s\n}\n', line: 2, col: 9, code: 'ERR_ZONE_LOOKS_LIKE_NUMBER' },
    { name: 'hosts FILE five', text: '. {\n  hosts /etc/hosts five\n}\n', line: 2, col: 20, code: 'ERR_ZONE_LOOKS_LIKE_NUMBER' },
  ];
  for (const row of errorRows) {
    it(`error: ${row.name}`, () => {
      const err = configErrorOf(() => loadConfigText(row.text, 'Corefile', { registry, env: {}, configDir: '/nonexistent' }));
      expect({ line: err.pos?.line, col: err.pos?.col, code: err.code }).to.deep.equal({ line: row.line, col: row.col, code: row.code });
    });
  }

  it('an unknown directive that is a CoreDNS plugin points at --plugin', () => {
    const err = configErrorOf(() => loadConfigText('. {\n  dnssec\n}\n', 'Corefile', { registry, env: {} }));
    expect(err.message).to.equal("Corefile:2:3: unknown directive 'dnssec' (a CoreDNS plugin that nodens does not have built in: load an external one with --plugin MODULE)");
  });

  it('a trailing dot says a word is meant as a zone', () => {
    expect(() => loadConfigText('. {\n  cache thirty.\n}\n', 'Corefile', { registry, env: {} })).to.not.throw();
  });
});

describe('config check: YAML options are normalised like Corefile ones', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-yaml-norm-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('zones written Example.COM. in YAML answer as the Corefile spelling does', async () => {
    const file = path.join(dir, 'n.yaml');
    const yaml = 'servers:\n  - zones: [Example.COM.]\n    plugins:\n      - hosts: { zones: [Example.COM.], inline: ["10.0.0.1 www.example.com"], fallthrough: [Example.COM.] }\n';
    const config = loadConfigText(yaml, file, { registry: createRegistry() });
    expect(config.servers[0]!.plugins[0]!.options).to.deep.include({ zones: ['example.com'], fallthrough: ['example.com'] });
    fs.writeFileSync(file, yaml);
    const server = await createServer({ file, defaultPort: 0, defaultBind: ['127.0.0.1'], logger: memoryLogger() });
    try {
      const reply = await queryServer('127.0.0.1', server.addresses()[0]!.port, 'WWW.Example.com', 'A');
      expect(reply.answer.map((r) => r.data)).to.deep.equal(['10.0.0.1']);
    } finally {
      await server.close();
    }
  });
});

describe('config check: a plugin built against another copy of nodens', () => {
  it('its ConfigError is recognised by its fields: one clean file:line:col', async () => {
    // A second copy of the errors module, as a plugin's own node_modules/nodens would hold.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-other-copy-'));
    try {
      fs.copyFileSync(path.resolve(import.meta.dirname, '../core/config/errors.ts'), path.join(dir, 'errors.ts'));
      const other = (await import(path.join(dir, 'errors.ts'))) as typeof import('../core/config/errors.js');
      expect(other.ConfigError).to.not.equal((await import('../core/config/errors.js')).ConfigError);
      const greeting = definePlugin({
        name: 'greeting', schema: {},
        parse: (d) => {
          const prop = d.block![0]!;
          return other.errorAt(prop.name, 'greeting', `unknown property '${prop.name.text}'`, 'ERR_UNKNOWN_PROPERTY');
        },
        setup: () => ({}),
      });
      const registry = createRegistry([greeting]);
      const err = configErrorOf(() => loadConfigText('. {\n  log\n  greeting {\n    answr x\n  }\n}\n', 'a.Corefile', { registry, env: {} }));
      expect(err.message).to.equal("a.Corefile:4:5: plugin/greeting: unknown property 'answr'");
      expect(err.code).to.equal('ERR_UNKNOWN_PROPERTY');
      expect(err.pretty().split('\n')[1]).to.equal('        answr x');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
