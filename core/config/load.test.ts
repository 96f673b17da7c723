import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlugin } from '../plugin.js';
import { Registry } from '../registry.js';
import { expectArgs, intArg, oneOf, unknownProperty } from './args.js';
import { loadConfigFile, loadConfigText } from './load.js';
import { configErrorOf } from '../testing.js';

interface TinyOptions {
  to: string[];
  ttl?: number;
  mode?: string;
}

/** A small plugin with CoreDNS-style parsing: `tiny TO... { ttl N; mode a|b }`. */
const tiny = definePlugin<TinyOptions>({
  name: 'tiny',
  schema: {
    type: 'object',
    properties: {
      to: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      ttl: { type: 'integer', minimum: 0, maximum: 3600 },
      mode: { enum: ['a', 'b'] },
      size: { type: 'integer', default: 100 },
    },
    required: ['to'],
    additionalProperties: false,
  },
  parse(d, ctx) {
    const opts: TinyOptions = { to: expectArgs(d, 'tiny', 1, 3).map((t) => t.text) };
    if (d.args[0]!.text === 'zones') opts.to = [...ctx.zones, ctx.configDir];
    for (const p of d.block ?? []) {
      switch (p.name.text) {
        case 'ttl':
          opts.ttl = intArg(expectArgs(p, 'tiny', 1)[0]!, 'tiny');
          break;
        case 'mode':
          opts.mode = oneOf(expectArgs(p, 'tiny', 1)[0]!, 'tiny', ['a', 'b', 'c']);
          break;
        default:
          unknownProperty(p, 'tiny', ['ttl', 'mode']);
      }
    }
    return opts;
  },
  setup: () => ({}),
});

const simple = (name: string, once?: boolean) =>
  definePlugin({ name, once, schema: { type: 'object' }, parse: (d) => ({ args: d.args.map((a) => a.text) }), setup: () => ({}) });

const boom = definePlugin({
  name: 'boom',
  schema: {},
  parse(): never {
    throw new TypeError('kaboom');
  },
  setup: () => ({}),
});

const registry = new Registry([simple('errors'), simple('log'), simple('cache'), tiny, boom, simple('forward', false)]);
const load = (text: string, file = 'Corefile', env?: Record<string, string>) => loadConfigText(text, file, { registry, env, configDir: '/cfg' });

describe('config/load', () => {
  describe('errors name code, line and column', () => {
    const cases: { name: string; text: string; code: string; line: number; col: number; msg: RegExp }[] = [
      { name: 'unknown directive, with did you mean', text: '. {\n  tinny x\n}', code: 'ERR_UNKNOWN_DIRECTIVE', line: 2, col: 3, msg: /^Corefile:2:3: unknown directive 'tinny' \(did you mean 'tiny'\?\)$/ },
      { name: 'unknown directive, nothing close', text: '. {\n  frobnicate\n}', code: 'ERR_UNKNOWN_DIRECTIVE', line: 2, col: 3, msg: /^Corefile:2:3: unknown directive 'frobnicate'$/ },
      { name: 'unknown property, with did you mean', text: '. {\n  tiny x {\n    tll 30\n  }\n}', code: 'ERR_UNKNOWN_PROPERTY', line: 3, col: 5, msg: /^Corefile:3:5: plugin\/tiny: unknown property 'tll' \(did you mean 'ttl'\?\)$/ },
      { name: 'too few arguments', text: '. {\n  tiny\n}', code: 'ERR_ARG_COUNT', line: 2, col: 3, msg: /^Corefile:2:3: plugin\/tiny: wrong argument count: want 1 to 3, got 0$/ },
      { name: 'too many arguments points at the first extra', text: '. {\n  tiny a b c d\n}', code: 'ERR_ARG_COUNT', line: 2, col: 14, msg: /got 4/ },
      { name: 'bad value', text: '. {\n  tiny x {\n    ttl abc\n  }\n}', code: 'ERR_BAD_VALUE', line: 3, col: 9, msg: /^Corefile:3:9: plugin\/tiny: 'abc' is not an integer$/ },
      { name: 'schema violation at the property value', text: '. {\n  tiny x {\n    ttl 9000\n  }\n}', code: 'ERR_SCHEMA', line: 3, col: 9, msg: /^Corefile:3:9: plugin\/tiny: ttl must be <= 3600$/ },
      { name: 'schema enum violation', text: '. {\n  tiny x {\n    mode c\n  }\n}', code: 'ERR_SCHEMA', line: 3, col: 10, msg: /plugin\/tiny: mode 'c' must be one of "a", "b"$/ },
      { name: 'schema violation with no property line: at the directive', text: '. {\n  log\n  tiny\t""\n}', code: 'ERR_SCHEMA', line: 3, col: 3, msg: /^Corefile:3:3: plugin\/tiny: to\[0\] must NOT have fewer than 1 characters$/ },
      { name: 'a plugin throwing a plain Error', text: '. {\n  boom 1\n}', code: 'ERR_BAD_VALUE', line: 2, col: 3, msg: /^Corefile:2:3: plugin\/boom: kaboom$/ },
      { name: 'a once plugin repeated', text: '. {\n  log\n  errors\n  log\n}', code: 'ERR_DUPLICATE', line: 4, col: 3, msg: /plugin\/log: log may appear only once/ },
      { name: 'duplicate zone:port across blocks', text: 'example.org:53 {\n}\n\nexample.org {\n}', code: 'ERR_DUPLICATE', line: 4, col: 1, msg: /zone 'example.org' on port 53 is already served \(by the key at Corefile:1:1\)/ },
      { name: 'duplicate zone:port within a block', text: 'a.org b.org A.ORG. {\n}', code: 'ERR_DUPLICATE', line: 1, col: 13, msg: /zone 'a.org' on port 53/ },
      { name: 'duplicate reverse zone from a CIDR', text: '10.0.0.0/24 {\n}\n0.0.10.in-addr.arpa {\n}', code: 'ERR_DUPLICATE', line: 3, col: 1, msg: /0\.0\.10\.in-addr\.arpa/ },
      { name: 'unsupported scheme', text: '. {\n}\ntls://.:853 {\n}', code: 'ERR_BAD_VALUE', line: 3, col: 1, msg: /^Corefile:3:1: 'tls:\/\/\.:853': scheme tls:\/\/ not supported/ },
      { name: 'bad port', text: 'example.org:65536 {\n}', code: 'ERR_BAD_VALUE', line: 1, col: 1, msg: /bad port '65536'/ },
      { name: 'bind with a non-address', text: '. {\n  bind 127.0.0.1 eth0\n}', code: 'ERR_BAD_VALUE', line: 2, col: 18, msg: /bind: 'eth0' is not an IP address/ },
      { name: 'bind without arguments', text: '. {\n  bind\n}', code: 'ERR_ARG_COUNT', line: 2, col: 3, msg: /bind: wrong argument count/ },
      { name: 'unclosed brace', text: '. {\n  tiny x {\n    ttl 3\n  }\n', code: 'ERR_UNCLOSED_BRACE', line: 1, col: 3, msg: /unclosed/ },
      { name: 'unexpected brace', text: '. {\n  log\n  }\n}\n', code: 'ERR_UNEXPECTED_BRACE', line: 4, col: 1, msg: /unexpected '\}'/ },
      { name: 'unknown snippet', text: '. {\n  import nosuch\n}', code: 'ERR_IMPORT', line: 2, col: 3, msg: /no snippet named 'nosuch'/ },
      { name: 'missing import file', text: '. {\n  import extra.conf\n}', code: 'ERR_IMPORT', line: 2, col: 3, msg: /no such file: \/cfg\/extra\.conf/ },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const err = configErrorOf(() => load(c.text));
        expect({ code: err.code, line: err.pos?.line, col: err.pos?.col }).to.deep.equal({ code: c.code, line: c.line, col: c.col });
        expect(err.message).to.match(c.msg);
      });
    }

    it('pretty() shows the source line and a caret under the column', () => {
      const err = configErrorOf(() => load('. {\n  tiny x {\n    ttl 9000\n  }\n}'));
      expect(err.pretty().split('\n')).to.deep.equal(['Corefile:3:9: plugin/tiny: ttl must be <= 3600', '        ttl 9000', '            ^']);
    });

    it('wraps a plain error with its cause', () => {
      const err = configErrorOf(() => load('. {\n  boom\n}'));
      expect(err.cause).to.be.instanceOf(TypeError);
    });
  });

  describe('happy paths', () => {
    it('several keys, zone:port, dns://, CIDR keys', () => {
      const cfg = load('example.org:1053 dns://b.org,\n  10.0.0.0/23 {\n  log\n}\ndns://.:53 {\n}');
      expect(cfg.servers.map((s) => s.keys.map((k) => `${k.zone}:${k.port ?? '-'}`))).to.deep.equal([
        ['example.org:1053', 'b.org:-', '0.0.10.in-addr.arpa:-', '1.0.10.in-addr.arpa:-'],
        [':53'],
      ]);
      expect(cfg.servers[0]!.keys[2]!.pos).to.deep.equal({ file: 'Corefile', line: 2, col: 3 });
    });

    it('the same zone on two ports is fine', () => {
      expect(load('a.org:53 {\n}\na.org:1053 {\n}').servers).to.have.length(2);
    });

    it('orders plugins by the registry, repeats in file order, and keeps positions', () => {
      const cfg = load('. {\n  forward . 1.1.1.1\n  tiny x\n  log\n  forward . 2.2.2.2\n  errors\n}');
      expect(cfg.servers[0]!.plugins.map((p) => `${p.name}@${p.pos.line}`)).to.deep.equal(['errors@6', 'log@4', 'tiny@3', 'forward@2', 'forward@5']);
      expect(cfg.servers[0]!.plugins[3]!.options).to.deep.equal({ args: ['.', '1.1.1.1'] });
    });

    it('gives parse() the block zones and config dir; ajv fills defaults', () => {
      const cfg = load('a.org B.org. {\n  tiny zones {\n    ttl 30\n    mode b\n  }\n}');
      expect(cfg.servers[0]!.plugins[0]!.options).to.deep.equal({ to: ['a.org', 'b.org', '/cfg'], ttl: 30, mode: 'b', size: 100 });
    });

    it('bind fills the block addresses', () => {
      const cfg = load('. {\n  bind 127.0.0.1 ::1\n  bind 127.0.0.1 10.0.0.1\n  log\n}');
      expect(cfg.servers[0]!.bind).to.deep.equal(['127.0.0.1', '::1', '10.0.0.1']);
      expect(cfg.servers[0]!.plugins.map((p) => p.name)).to.deep.equal(['log']);
    });

    it('snippets, {$ENV}, comments, quotes spanning lines, nested blocks', () => {
      const text = [
        '(base) {',
        '  errors # always',
        '}',
        '{$ZONE}:{$PORT} {',
        '  import base',
        '  forward . {$UP} "multi',
        'line"  # comment',
        '  tiny {%TO%} {',
        '    ttl {$TTL}',
        '  }',
        '}',
      ].join('\n');
      const cfg = load(text, 'Corefile', { ZONE: 'cluster.local', PORT: '1053', UP: '10.0.0.10', TO: 'x', TTL: '60' });
      const s = cfg.servers[0]!;
      expect(s.keys.map((k) => [k.zone, k.port])).to.deep.equal([['cluster.local', 1053]]);
      expect(s.plugins.map((p) => [p.name, p.options])).to.deep.equal([
        ['errors', { args: [] }],
        ['tiny', { to: ['x'], ttl: 60, size: 100 }],
        ['forward', { args: ['.', '10.0.0.10', 'multi\nline'] }],
      ]);
      expect(s.plugins[0]!.pos).to.deep.equal({ file: 'Corefile', line: 2, col: 3 });
    });

    it('a single block without braces', () => {
      const cfg = load('.:1053\nlog\ntiny x\n');
      expect(cfg.servers).to.have.length(1);
      expect(cfg.servers[0]!.keys[0]!.port).to.equal(1053);
      expect(cfg.servers[0]!.plugins.map((p) => p.name)).to.deep.equal(['log', 'tiny']);
    });

    it('an empty config has no servers', () => {
      expect(load('# nothing\n').servers).to.deep.equal([]);
    });
  });

  describe('files', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'nodens-load-'));
      mkdirSync(join(dir, 'zones'));
      writeFileSync(join(dir, 'Corefile'), 'import zones/*.conf\n. {\n  import common\n}\n');
      writeFileSync(join(dir, 'common'), 'log\nerrors\n');
      writeFileSync(join(dir, 'zones', 'a.conf'), 'a.org {\n  tiny a\n}\n');
      writeFileSync(join(dir, 'zones', 'b.conf'), 'b.org {\n  tiny b {\n    ttl 99999\n  }\n}\n');
      writeFileSync(join(dir, 'ok'), 'import zones/a.conf\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loadConfigFile reads imports relative to the file and lists every file read', () => {
      const cfg = loadConfigFile(join(dir, 'ok'), { registry });
      expect(cfg.file).to.equal(join(dir, 'ok'));
      expect(cfg.files).to.deep.equal([join(dir, 'ok'), join(dir, 'zones', 'a.conf')]);
      expect(cfg.servers[0]!.plugins[0]!.options).to.deep.equal({ to: ['a'], size: 100 });
    });

    it('an error in an imported file names it and shows its line', () => {
      const err = configErrorOf(() => loadConfigFile(join(dir, 'Corefile'), { registry }));
      expect(err.code).to.equal('ERR_SCHEMA');
      expect(err.pos).to.deep.equal({ file: join(dir, 'zones', 'b.conf'), line: 3, col: 9 });
      expect(err.sourceLine).to.equal('    ttl 99999');
    });

    it('a missing config file is ERR_FILE', () => {
      const err = configErrorOf(() => loadConfigFile(join(dir, 'nope'), { registry }));
      expect(err.code).to.equal('ERR_FILE');
      expect(err.message).to.match(/cannot read config file .*nope/);
    });

    it('loadConfigText with a name of the form <string> lists only imports', () => {
      expect(loadConfigText('. {\n}\n', '<string>', { registry, configDir: dir }).files).to.deep.equal([]);
      const cfg2 = loadConfigText('. {\n import common\n}\n', '<string>', { registry, configDir: dir });
      expect(cfg2.files).to.deep.equal([join(dir, 'common')]);
    });
  });
});
