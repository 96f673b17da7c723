// docs/errors.md is the error catalogue: every code the source raises has a section there with an example,
// and every section is a code that exists.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(rel);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [rel] : [];
  });
}

describe('docs/errors.md: the error catalogue', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');
  const sections = new Map<string, string>();
  for (const part of doc.split(/^### /m).slice(1)) {
    const [title, ...body] = part.split('\n');
    sections.set(title!.trim(), body.join('\n'));
  }
  const used = new Map<string, string>();
  for (const file of [...sourceFiles('core'), ...sourceFiles('plugins'), ...sourceFiles('bin')]) {
    for (const m of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/'((?:ERR|WARN)_[A-Z_]+)'/g)) used.set(m[1]!, file);
  }
  const declared = [...fs.readFileSync(path.join(ROOT, 'core/config/errors.ts'), 'utf8').matchAll(/\| '((?:ERR|WARN)_[A-Z_]+)'/g)].map((m) => m[1]!);

  it('finds the codes (the test can fail)', () => {
    expect(used.size).to.be.greaterThan(15);
    expect(declared).to.include.members(['ERR_SYNTAX', 'ERR_BAD_VALUE', 'WARN_UNREACHABLE']);
  });

  it('documents every code the source uses, each with an example message', () => {
    const missing = [...used.keys()].filter((code) => !sections.has(code));
    expect(missing, `add a '### CODE' section to docs/errors.md for: ${missing.map((c) => `${c} (${used.get(c)})`).join(', ')}`).to.deep.equal([]);
    for (const [code, body] of sections) expect(body, `${code} has no example block`).to.match(/```text\n.+\n/);
  });

  it('documents every declared code, and no code that does not exist', () => {
    expect(declared.filter((c) => !sections.has(c))).to.deep.equal([]);
    expect([...sections.keys()].filter((c) => !used.has(c) && !declared.includes(c))).to.deep.equal([]);
  });
});
