// Zone names: normalisation, suffix tests, longest-suffix match, and `fallthrough [ZONES]`.

/** Lower-case, no trailing dot; '.' and '' are the root (''). */
export function normalizeZone(zone: string): string {
  let z = zone.toLowerCase();
  if (z.endsWith('.')) z = z.slice(0, -1);
  return z;
}

/** Is `name` (normalised) equal to or below `zone` (normalised)? */
export function isInZone(name: string, zone: string): boolean {
  if (zone === '') return true;
  if (name.length === zone.length) return name === zone;
  return name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 46;
}

/** The longest of `zones` that contains `name`, or undefined. */
export function matchZone(name: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if ((best === undefined || z.length > best.length) && isInZone(name, z)) best = z;
  }
  return best;
}

/**
 * `fallthrough [ZONES...]`: undefined when the directive is absent (never fall through),
 * an empty list for all zones.
 */
export type Fallthrough = readonly string[] | undefined;

export function fallsThrough(ft: Fallthrough, name: string): boolean {
  if (ft === undefined) return false;
  if (ft.length === 0) return true;
  return ft.some((z) => isInZone(name, z));
}

/** The labels of `name` in front of `zone` ('a.b' for a.b.example.org in example.org), '' at the apex. */
export function stripZone(name: string, zone: string): string {
  if (zone === '') return name;
  if (name.length === zone.length) return '';
  return name.slice(0, name.length - zone.length - 1);
}
