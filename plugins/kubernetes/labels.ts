// Kubernetes label selectors (`env in (qa, prod), app=web, !canary`): parsed once, to validate the Corefile
// and to filter manifests on disk the way the API server filters a list or watch.

export interface LabelSelector {
  readonly text: string;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]{0,61}[a-z0-9A-Z])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`invalid label key '${key}'`);
  return key;
}
function checkValue(value: string): string {
  if (!VALUE.test(value)) throw new Error(`invalid label value '${value}'`);
  return value;
}

function parseRequirement(part: string): Requirement {
  if (part === '') throw new Error('empty requirement');
  let m = /^!\s*(\S+)$/.exec(part);
  if (m) {
    const key = checkKey(m[1]!);
    return (l) => !(key in l);
  }
  m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
  if (m) {
    const key = checkKey(m[1]!);
    const values = new Set(m[3]!.split(',').map((v) => checkValue(v.trim())));
    return m[2] === 'in' ? (l) => key in l && values.has(l[key]!) : (l) => !(key in l) || !values.has(l[key]!);
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
  if (m) {
    const key = checkKey(m[1]!);
    const value = checkValue(m[3]!);
    return m[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const key = checkKey(part);
  return (l) => key in l;
}

/** Parses a selector; throws an Error naming the bad part. */
export function parseLabelSelector(text: string): LabelSelector {
  const reqs = text.trim() === '' ? [] : splitTopLevel(text).map(parseRequirement);
  return {
    text,
    matches: (labels) => {
      const l = labels ?? {};
      return reqs.every((r) => r(l));
    },
  };
}
