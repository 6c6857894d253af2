/** Dotted numeric versions ("3.1.0", "0.8.0"), compared part by part; suffixes are ignored. */
export function parseVersion(v: string): number[] {
  const m = /^(\d+(?:\.\d+)*)/.exec(v.trim());
  if (!m) throw new Error(`not a version: ${JSON.stringify(v)}`);
  return m[1]!.split('.').map(Number);
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** "3.1" of "3.1.4": a new major or minor is what gets a safety dump before it first starts. */
export function majorMinor(v: string): string {
  const [a = 0, b = 0] = parseVersion(v);
  return `${a}.${b}`;
}
