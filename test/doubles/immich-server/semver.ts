// TEST DOUBLE helper standing in for the `semver` calls of Immich v3.2.0's
// server/src/services/database.service.ts (index id 3779957753) and database-backup.service.ts
// (index id 32468293245): coerce, compare and `>=a <b` ranges.
// Simplified: only comparator ranges joined by spaces (all Immich's constants use), no prereleases.

export type Version = [number, number, number];

/** semver.coerce: the first `N[.N[.N]]` in the text ("15.14 (Debian …)" → 15.14.0). */
export function coerce(text: string): Version | undefined {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

export function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** `>=0.5 <1`, `>=14.0.0`, `>=14.0.0 <19.0.0`, `<= 2.4`. */
export function satisfies(version: Version, range: string): boolean {
  for (const m of range.matchAll(/(>=|<=|>|<|=)?\s*(\d+(?:\.\d+){0,2})/g)) {
    const bound = coerce(m[2] ?? '');
    if (!bound) return false;
    const c = compare(version, bound);
    const ok = { '>=': c >= 0, '<=': c <= 0, '>': c > 0, '<': c < 0, '=': c === 0 }[m[1] ?? '='];
    if (!ok) return false;
  }
  return true;
}

export function parse(text: string | null | undefined): Version | undefined {
  return text ? coerce(text) : undefined;
}
