import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin } from '../plugin.js';
import { Registry } from '../registry.js';
import { loadConfigFile, loadConfigText } from './load.js';
import { configErrorOf } from '../testing.js';

const forward = definePlugin({
  name: 'forward',
  once: false,
  schema: {
    type: 'object',
    properties: {
      from: { type: 'string' },
      to: { type: 'array', items: { type: 'string' }, minItems: 1 },
      policy: { enum: ['random', 'round_robin', 'sequential'], default: 'random' },
      health_check: { type: 'object', properties: { interval: { type: 'string' } }, additionalProperties: false },
    },
    required: ['from', 'to'],
    additionalProperties: false,
  },
  parse: () => ({ from: '.', to: ['x'] }),
  setup: () => ({}),
});
const cache = definePlugin({
  name: 'cache',
  schema: { type: 'object', properties: { ttl: { type: 'integer', maximum: 3600 } }, additionalProperties: false },
  parse: () => ({}),
  setup: () => ({}),
});
const log = definePlugin({ name: 'log', schema: { type: 'object' }, parse: () => ({}), setup: () => ({}) });
const registry = new Registry([log, cache, forward]);

const load = (text: string) => loadConfigText(text, 'nodens.yaml', { registry });

const HAPPY = `# the cluster DNS, as YAML
servers:
  - zones: ['cluster.local:53', 'dns://10.96.0.0/16']
    bind: [127.0.0.1]
    plugins:
      - forward: { from: ., to: [10.0.0.1] }
      - log
      - cache: { ttl: 30 }
      - forward:
          from: example.org
          to: [10.0.0.2]
          policy: sequential
  - zones: .:1053
    plugins:
      - log:
`;

describe('config/yaml', () => {
  it('loads the same model as a Corefile', () => {
    const cfg = load(HAPPY);
    expect(cfg.servers).to.have.length(2);
    const [a, b] = cfg.servers;
    expect(a!.keys.map((k) => [k.zone, k.port])).to.deep.equal([['cluster.local', 53], ['96.10.in-addr.arpa', undefined]]);
    expect(a!.keys[1]!.pos).to.deep.equal({ file: 'nodens.yaml', line: 3, col: 33 });
    expect(a!.bind).to.deep.equal(['127.0.0.1']);
    expect(a!.plugins.map((p) => [p.name, p.options, p.pos.line, p.pos.col])).to.deep.equal([
      ['log', {}, 7, 9],
      ['cache', { ttl: 30 }, 8, 9],
      ['forward', { from: '.', to: ['10.0.0.1'], policy: 'random' }, 6, 9],
      ['forward', { from: 'example.org', to: ['10.0.0.2'], policy: 'sequential' }, 9, 9],
    ]);
    expect(b!.keys.map((k) => [k.zone, k.port])).to.deep.equal([['', 1053]]);
    expect(b!.plugins.map((p) => [p.name, p.options])).to.deep.equal([['log', {}]]);
    expect(b!.pos).to.deep.equal({ file: 'nodens.yaml', line: 13, col: 5 });
  });

  it('loadConfigFile picks YAML by extension (.yml too)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodens-yaml-'));
    try {
      writeFileSync(join(dir, 'c.yml'), HAPPY);
      const cfg = loadConfigFile(join(dir, 'c.yml'), { registry });
      expect(cfg.servers).to.have.length(2);
      expect(cfg.files).to.deep.equal([join(dir, 'c.yml')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const errors: { name: string; text: string; code: string; line: number; col: number; msg: RegExp }[] = [
    {
      name: 'schema violation at the offending value',
      text: 'servers:\n  - zones: [.]\n    plugins:\n      - cache:\n          ttl: 7200\n',
      code: 'ERR_SCHEMA', line: 5, col: 16, msg: /^nodens\.yaml:5:16: plugin\/cache: ttl must be <= 3600$/,
    },
    {
      name: 'wrong type deep in the options',
      text: 'servers:\n  - zones: [.]\n    plugins:\n      - forward: { from: ., to: [1.1.1.1, 7] }\n',
      code: 'ERR_SCHEMA', line: 4, col: 43, msg: /plugin\/forward: to\[1\] must be a string$/,
    },
    {
      name: 'unknown property at its key, with did you mean',
      text: 'servers:\n  - zones: [.]\n    plugins:\n      - forward:\n          from: .\n          to: [1.1.1.1]\n          polcy: random\n',
      code: 'ERR_UNKNOWN_PROPERTY', line: 7, col: 11, msg: /plugin\/forward: unknown property 'polcy' \(did you mean 'policy'\?\)$/,
    },
    {
      name: 'nested unknown property',
      text: 'servers:\n  - zones: [.]\n    plugins:\n      - forward: { from: ., to: [a], health_check: { intervall: 1s } }\n',
      code: 'ERR_UNKNOWN_PROPERTY', line: 4, col: 54, msg: /unknown property 'intervall' in health_check \(did you mean 'interval'\?\)/,
    },
    {
      name: 'missing required property at the plugin options',
      text: 'servers:\n  - zones: [.]\n    plugins:\n      - forward:\n          to: [1.1.1.1]\n',
      code: 'ERR_SCHEMA', line: 5, col: 11, msg: /plugin\/forward: missing property 'from'$/,
    },
    {
      name: 'enum violation',
      text: 'servers:\n  - zones: [.]\n    plugins:\n      - forward: { from: ., to: [a], policy: fastest }\n',
      code: 'ERR_SCHEMA', line: 4, col: 46, msg: /policy '[a-z]*' must be one of "random", "round_robin", "sequential"/,
    },
    { name: 'unknown plugin', text: 'servers:\n  - zones: [.]\n    plugins:\n      - forwad: {}\n', code: 'ERR_UNKNOWN_DIRECTIVE', line: 4, col: 9, msg: /unknown directive 'forwad' \(did you mean 'forward'\?\)/ },
    { name: 'a once plugin twice', text: 'servers:\n  - zones: [.]\n    plugins:\n      - log\n      - log\n', code: 'ERR_DUPLICATE', line: 5, col: 9, msg: /plugin\/log: log may appear only once/ },
    { name: 'a plugin item with two keys', text: 'servers:\n  - zones: [.]\n    plugins:\n      - log: {}\n        cache: {}\n', code: 'ERR_SCHEMA', line: 4, col: 9, msg: /one-key map/ },
    { name: 'unknown server key', text: 'servers:\n  - zones: [.]\n    plugin: []\n', code: 'ERR_SCHEMA', line: 3, col: 5, msg: /unknown key 'plugin'.*did you mean 'plugins'/ },
    { name: 'unknown top-level key', text: 'server:\n  - zones: [.]\n', code: 'ERR_SCHEMA', line: 1, col: 1, msg: /unknown key 'server'/ },
    { name: 'missing zones', text: 'servers:\n  - plugins: [log]\n', code: 'ERR_SCHEMA', line: 2, col: 5, msg: /needs 'zones'/ },
    { name: 'bad zone key', text: 'servers:\n  - zones: [., "tls://.:853"]\n', code: 'ERR_BAD_VALUE', line: 2, col: 16, msg: /scheme tls:\/\/ not supported/ },
    { name: 'duplicate zone:port', text: 'servers:\n  - zones: [.]\n  - zones: [".:53"]\n', code: 'ERR_DUPLICATE', line: 3, col: 13, msg: /zone '.' on port 53/ },
    { name: 'bind not an address', text: 'servers:\n  - zones: [.]\n    bind: [lo]\n', code: 'ERR_BAD_VALUE', line: 3, col: 12, msg: /bind: 'lo' is not an IP address/ },
    { name: 'YAML syntax error', text: 'servers:\n  - zones: [.\n', code: 'ERR_YAML', line: 3, col: 1, msg: /^nodens\.yaml:3:1: YAML: a '\[' list is not closed with '\]'/ },
    { name: 'YAML: a key indented one space off', text: 'servers:\n  - zones: [.]\n   plugins: []\n', code: 'ERR_YAML', line: 3, col: 4, msg: /YAML: the indentation here does not match the lines above/ },
    { name: 'YAML: a tab', text: 'servers:\n\t- zones: [.]\n', code: 'ERR_YAML', line: 2, col: 1, msg: /YAML: a tab is used for indentation; YAML indents with spaces only$/ },
    { name: 'YAML: an open quote', text: 'servers:\n  - zones: [".]\n', code: 'ERR_YAML', line: 2, col: 13, msg: /YAML: a quoted string is not closed$/ },
    { name: 'YAML: a key twice', text: 'servers:\n  - zones: [.]\n    zones: [a]\n', code: 'ERR_YAML', line: 3, col: 5, msg: /YAML: this key is already set in the same map$/ },
    { name: 'YAML: an open map', text: 'servers:\n  - zones: [.]\n    plugins:\n      - forward: {to: [1.1.1.1]\n', code: 'ERR_YAML', line: 5, col: 1, msg: /YAML: a '\{' map is not closed with '\}'/ },
  ];
  for (const c of errors) {
    it(`error: ${c.name}`, () => {
      const err = configErrorOf(() => load(c.text));
      expect({ code: err.code, line: err.pos?.line, col: err.pos?.col }).to.deep.equal({ code: c.code, line: c.line, col: c.col });
      expect(err.message).to.match(c.msg);
    });
  }

  it('pretty() points into the YAML line', () => {
    const err = configErrorOf(() => load('servers:\n  - zones: [.]\n    plugins:\n      - cache: { ttl: 7200 }\n'));
    expect(err.pretty().split('\n').slice(1)).to.deep.equal(['          - cache: { ttl: 7200 }', '                          ^']);
  });
});
