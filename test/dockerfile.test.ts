// The Dockerfile cannot be built here (no container engine), so its shape is checked instead: a build stage
// that compiles, a slim runtime with only dist/ and production dependencies, non-root, the CLI as entrypoint.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string; bin: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string>;
  scripts: Record<string, string>; engines: { node: string };
};
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string }; include: string[] };

interface Instruction { op: string; args: string }
interface Stage { from: string; name?: string; steps: Instruction[] }

/** Instructions (continuation lines joined, comments dropped), grouped by FROM. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    const ins = { op: op!.toUpperCase(), args: args!.trim() };
    if (ins.op === 'FROM') {
      const [from, as, name] = ins.args.split(/\s+/);
      stages.push({ from: from!, ...(as?.toUpperCase() === 'AS' ? { name: name! } : {}), steps: [] });
    } else {
      stages.at(-1)!.steps.push(ins);
    }
  }
  return stages;
}

/** Source files under a folder, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : [p];
  });
}

describe('Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const [build, runtime] = stages;
  const steps = (s: Stage, op: string) => s.steps.filter((i) => i.op === op).map((i) => i.args);

  it('has two stages on one pinned Node LTS image: build, then the runtime', () => {
    const image = build!.from;
    expect(stages.map((s) => [s.from, s.name])).to.deep.equal([[image, 'build'], [image, undefined]]);
    // An exact release, never a moving tag such as node:24-bookworm-slim or node:lts.
    expect(image).to.match(/^node:\d+\.\d+\.\d+-bookworm-slim$/);
  });

  it('the image\'s Node is the one CI runs the whole suite on, that engines allows and @types/node describes', () => {
    const version = /^node:(\d+\.\d+\.\d+)-/.exec(build!.from)![1]!;
    const major = version.split('.')[0]!;
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(/^SHIPPED_NODE=(\S+)$/m.exec(ci)?.[1], '.ci/run SHIPPED_NODE').to.equal(version);
    expect(pkg.engines.node.split('||').map((r) => r.trim()), 'engines').to.include(`^${version}`);
    expect(pkg.devDependencies['@types/node'], '@types/node').to.match(new RegExp(`^\\^${major}\\.`));
  });

  it('the build stage installs with npm ci from the lock file and runs the build', () => {
    expect(steps(build!, 'COPY')[0]).to.equal('package.json package-lock.json ./');
    const runs = steps(build!, 'RUN');
    expect(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit'))).to.equal(true);
    expect(runs).to.include('npm run build');
    expect(pkg.scripts.build).to.match(/^tsc -p tsconfig\.json$/);
    // What the build compiles (tsconfig's include) is copied in.
    const copied = steps(build!, 'COPY').flatMap((c) => c.split(/\s+/).slice(0, -1));
    for (const inc of tsconfig.include) expect(copied, inc).to.include(inc.split('/')[0]);
    expect(copied).to.include('tsconfig.json');
  });

  it('the runtime has only dist/, package.json, package-lock.json, production dependencies and dumb-init', () => {
    expect(steps(runtime!, 'COPY').sort()).to.deep.equal([`--from=build /src/${tsconfig.compilerOptions.outDir} ./dist`, 'package.json package-lock.json ./']);
    const runs = steps(runtime!, 'RUN');
    expect(runs).to.have.length(2);
    // Debian's dumb-init, the apt lists dropped in the same layer.
    expect(runs[0]).to.equal('apt-get update && apt-get install -y --no-install-recommends dumb-init && rm -rf /var/lib/apt/lists/*');
    expect(runs[1]).to.match(/^npm ci --omit=dev\b/);
    // `prepare` would run tsc, a dev dependency: scripts must be off for the production install.
    expect(runs[1]).to.contain('--ignore-scripts');
  });

  it('runs as node, starts the compiled CLI under dumb-init with --disable-sigusr1, exposes DNS, metrics, health and ready', () => {
    expect(steps(runtime!, 'USER')).to.deep.equal(['node']);
    const entry = JSON.parse(steps(runtime!, 'ENTRYPOINT')[0]!) as string[];
    // test/signals.test.ts runs this command line and sends it the signals.
    expect(entry).to.deep.equal(['dumb-init', '--single-child', '--rewrite', '10:1', '--', 'node', '--disable-sigusr1', 'dist/bin/nodens.js']);
    expect(pkg.bin.nodens).to.equal(entry.at(-1));
    // --disable-sigusr1 came in Node 22.14: the image's Node must have it (an unknown flag stops node at once).
    const [major, minor] = /^node:(\d+)\.(\d+)\./.exec(runtime!.from)!.slice(1).map(Number);
    expect(major! > 22 || (major === 22 && minor! >= 14), runtime!.from).to.equal(true);
    expect(steps(runtime!, 'EXPOSE').join(' ').split(/\s+/).sort()).to.deep.equal(['53/tcp', '53/udp', '8080', '8181', '9153']);
  });

  it('.dockerignore lets in only what the build copies', () => {
    const rules = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(rules[0], 'everything else excluded').to.equal('**');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/\*\*$/, ''));
    const copied = steps(build!, 'COPY').flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(allowed.sort()).to.deep.equal([...new Set(copied)].sort());
    expect(rules).to.include('**/*.test.ts');
  });

  it('the shipped code imports only Node built-ins and production dependencies (npm ci --omit=dev suffices)', () => {
    const files = ['bin', 'core', 'plugins'].flatMap((d) => sources(join(root, d))).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const used = new Set<string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      const specs = [
        // Static imports and re-exports, minus type-only ones (erased by tsc).
        ...[...text.matchAll(/(?:^|\n)\s*(?:import|export)(\s+type)?\b[^;'"]*?\bfrom\s+'([^']+)'/g)].filter((m) => !m[1]).map((m) => m[2]!),
        ...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
        ...[...text.matchAll(/createRequire\([^)]*\)\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
      ];
      for (const s of specs) if (!s.startsWith('.')) used.add(s);
    }
    const packages = [...used].filter((s) => !s.startsWith('node:') && !builtinModules.includes(s))
      .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
    expect(packages.length, 'some packages found').to.be.greaterThan(3);
    // 'nodens' itself: the built-ins written against the public API import it by name (package.json
    // "exports" self-reference; the image copies package.json).
    for (const p of new Set(packages)) if (p !== pkg.name) expect(pkg.dependencies, p).to.have.property(p);
  });
});
