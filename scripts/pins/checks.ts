// Pure rules `npm run pins` applies to what it read: version comparison, Python's requires-python
// against Ubuntu's python, and the libvips that the tag's sharp needs.

/** Numeric, dot-separated comparison; missing parts count as 0 (`3.12` = `3.12.0`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

function numeric(v: string): boolean {
  return /^\d+(\.\d+)*$/.test(v);
}

/**
 * Whether `version` (a release such as Ubuntu's `3.12`) satisfies a PEP 440 specifier set such as
 * `>=3.11, <4.0`. Supports ==, !=, <, <=, >, >=, ~= and === on plain release numbers, with `.*` for
 * == and !=. Throws on anything else, so an unexpected specifier stops the script instead of passing.
 */
export function pythonSatisfies(specifiers: string, version: string): boolean {
  if (!numeric(version)) throw new Error(`'${version}' is not a release number`);
  const parts = specifiers.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new Error('empty requires-python');
  return parts.every((spec) => {
    const m = /^(~=|===|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?$/.exec(spec);
    if (m === null) throw new Error(`specifier '${spec}' is not understood`);
    const [, op, v, star] = m as unknown as [string, string, string, string | undefined];
    if (star !== undefined && op !== '==' && op !== '!=') throw new Error(`specifier '${spec}' is not valid`);
    const prefixMatch = (): boolean => {
      const want = v.split('.');
      const have = version.split('.');
      return want.every((w, i) => Number(have[i] ?? 0) === Number(w));
    };
    const c = compareVersions(version, v);
    switch (op) {
      case '===':
        return version === v;
      case '==':
        return star ? prefixMatch() : c === 0;
      case '!=':
        return star ? !prefixMatch() : c !== 0;
      case '<':
        return c < 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '>=':
        return c >= 0;
      case '~=': {
        const release = v.split('.');
        if (release.length < 2) throw new Error(`specifier '${spec}' is not valid`);
        const prefix = release.slice(0, -1).join('.');
        return c >= 0 && pythonSatisfies(`==${prefix}.*`, version);
      }
      default:
        throw new Error(`specifier '${spec}' is not understood`);
    }
  });
}

/**
 * The libvips each sharp release needs (`npm view sharp@<version> config.libvips`, read from the npm
 * registry on 2026-12-07). The requirement rises WITHIN a minor line (0.35.3 needs 8.18.3, 0.35.6
 * needs 8.18.8), so the check uses the exact version the tag's pnpm-lock.yaml installs, not the
 * range in server/package.json. A sharp version missing here stops the script: look it up with that
 * npm command and add it.
 */
export const SHARP_NEEDS_LIBVIPS: Readonly<Record<string, string>> = {
  '0.34.0': '8.16.1',
  '0.34.1': '8.16.1',
  '0.34.2': '8.16.1',
  '0.34.3': '8.17.1',
  '0.34.4': '8.17.2',
  '0.34.5': '8.17.3',
  '0.35.0': '8.18.3',
  '0.35.1': '8.18.3',
  '0.35.2': '8.18.3',
  '0.35.3': '8.18.3',
  '0.35.4': '8.18.6',
  '0.35.5': '8.18.7',
  '0.35.6': '8.18.8',
};

export type SharpVerdict =
  | { ok: true; needs: string }
  | { ok: false; needs?: string; reason: string };

/** Whether `libvips` is new enough for `sharp` (the exact installed version). */
export function sharpLibvipsVerdict(sharp: string, libvips: string): SharpVerdict {
  const needs = SHARP_NEEDS_LIBVIPS[sharp];
  if (needs === undefined) {
    return {
      ok: false,
      reason: `sharp ${sharp} is not in scripts/pins/checks.ts SHARP_NEEDS_LIBVIPS; add it from \`npm view sharp@${sharp} config.libvips\``,
    };
  }
  if (compareVersions(libvips, needs) < 0) {
    return { ok: false, needs, reason: `sharp ${sharp} needs libvips >= ${needs}, but versions.json libvips.version is ${libvips}` };
  }
  return { ok: true, needs };
}

/** A sha256 of all zeros is a placeholder that was never verified (docs/building.md). */
export function isPlaceholder(sha256: string): boolean {
  return /^0+$/.test(sha256);
}
