// The V8 flags the image runs nodens with, read from the Dockerfile's NODE_OPTIONS: the bench measures what ships.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('../../Dockerfile', import.meta.url));

export function shippedNodeFlags(): string[] {
  const m = /^ENV NODE_OPTIONS=(?:"([^"]*)"|(\S+))/m.exec(readFileSync(DOCKERFILE, 'utf8'));
  if (!m) throw new Error(`${DOCKERFILE}: no ENV NODE_OPTIONS line`);
  return (m[1] ?? m[2]!).split(/\s+/).filter(Boolean);
}
