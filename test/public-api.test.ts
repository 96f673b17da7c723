// Plugins written only against the public API: the files of these folders (tests included) import 'nodens',
// 'nodens/testing', Node's and npm packages, and each other, never core/ by a relative path. Imports are followed
// through the repository's own files (plugins/pkg helpers, test fixtures), so a helper that reaches into core/
// counts too. Add a folder here when its plugin is written against the public API only.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The public-API-only plugin folders. */
const PUBLIC_API_ONLY = [
  'plugins/acl', 'plugins/any', 'plugins/autopath', 'plugins/bufsize', 'plugins/chaos', 'plugins/k8s_external', 'plugins/local',
  'plugins/metadata', 'plugins/minimal', 'plugins/nsid', 'plugins/ratelimit', 'plugins/rewrite', 'plugins/template',
];

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2]!).filter(Boolean);
}

/** A relative specifier ('./x.js') → the .ts file it names in the repository. */
function resolveLocal(from: string, spec: string): string | undefined {
  const js = path.resolve(path.dirname(from), spec);
  for (const candidate of [js.replace(/\.js$/, '.ts'), js, `${js}.ts`, path.join(js, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every import chain from `file` that ends in core/, as 'a.ts -> b.ts -> core/x.ts'. */
function coreImports(file: string, seen = new Set<string>(), trail: string[] = []): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const here = [...trail, path.relative(ROOT, file)];
  const found: string[] = [];
  for (const spec of importsOf(file)) {
    if (!spec.startsWith('.')) continue;
    const target = resolveLocal(file, spec);
    const rel = path.relative(ROOT, target ?? path.resolve(path.dirname(file), spec));
    if (rel.startsWith(`core${path.sep}`) || rel === 'core') found.push([...here, rel].join(' -> '));
    else if (target) found.push(...coreImports(target, seen, here));
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? tsFiles(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

describe('plugins written against the public API only', () => {
  for (const folder of PUBLIC_API_ONLY) {
    it(`${folder} imports nothing from core/ (directly or through a repository helper)`, () => {
      const files = tsFiles(path.join(ROOT, folder));
      expect(files, `${folder} has no .ts files`).to.not.be.empty;
      const chains = files.flatMap((f) => coreImports(f));
      expect(chains, 'import from \'nodens\' or \'nodens/testing\' instead').to.deep.equal([]);
    });
  }

  it('the check finds a relative import of core/ (plugins/hosts does import it)', () => {
    const chains = tsFiles(path.join(ROOT, 'plugins/hosts')).flatMap((f) => coreImports(f));
    expect(chains.some((c) => c.includes('core/'))).to.equal(true);
  });
});
