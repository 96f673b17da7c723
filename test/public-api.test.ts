// The plugins written only against the public entry points ('nodens', 'nodens/testing') import nothing
// from core/ directly: they prove that a plugin author outside this repo can write them.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Plugin folders that must use the public API only. */
const PUBLIC_API_ONLY = ['acl', 'any', 'autopath', 'k8s_external', 'bufsize', 'chaos', 'local', 'metadata', 'minimal', 'nsid', 'rewrite', 'template'];

/** Every module specifier a TypeScript file imports or re-exports (static and dynamic). */
export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"]+)\1/g)) specifiers.push(m[2]!);
  return specifiers;
}

/** Does `specifier`, imported from `file`, lead outside the plugin folder into core/ (or another repo folder)? */
function leavesPublicApi(file: string, folder: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const target = path.resolve(path.dirname(file), specifier);
  return !target.startsWith(folder + path.sep);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? tsFiles(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

describe('public API only', () => {
  it('importsOf finds static, type-only, re-exported and dynamic imports', () => {
    const src = "import { a } from '../../core/index.js';\nimport type { B } from \"nodens\";\nexport * from './x.js';\nconst m = await import('../pkg/y.js');";
    expect(importsOf(src)).to.deep.equal(['../../core/index.js', 'nodens', './x.js', '../pkg/y.js']);
  });

  for (const name of PUBLIC_API_ONLY) {
    const folder = path.join(ROOT, 'plugins', name);
    let files: string[];
    try {
      files = tsFiles(folder);
    } catch {
      continue; // a listed plugin that this branch does not have yet
    }
    it(`plugins/${name} imports only 'nodens', 'nodens/testing', Node and its own files`, () => {
      const bad = files.flatMap((f) => importsOf(readFileSync(f, 'utf8'))
        .filter((s) => leavesPublicApi(f, folder, s))
        .map((s) => `${path.relative(ROOT, f)}: ${s}`));
      expect(bad).to.deep.equal([]);
    });
  }
});
