// File globs for `import` (`*` and `?` in any path segment, as Go's filepath.Glob), sorted, files only.
import { readdirSync, statSync } from 'node:fs';
import { join, parse, sep } from 'node:path';

export function hasGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** Files matching an absolute pattern, in lexical order per folder. */
export function expandGlob(pattern: string): string[] {
  const root = parse(pattern).root;
  const segments = pattern.slice(root.length).split(sep).filter((s) => s !== '');
  let paths = [root];
  for (const seg of segments) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasGlob(seg)) {
        next.push(join(dir, seg));
        continue;
      }
      const re = segmentRegExp(seg);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) if (re.test(name)) next.push(join(dir, name));
    }
    paths = next;
  }
  return paths.filter(isFile);
}

function segmentRegExp(seg: string): RegExp {
  const body = seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
