/**
 * Backup names (pure). A backup is a directory named by its UTC start time, `20261129T031500Z`
 * (sortable as text, no characters a shell or a USB filesystem dislikes), with `-2`, `-3`… when
 * two start within the same second. While it is being written it is `.partial-<id>`: a listing
 * never shows it, and a killed run leaves only a partial that the next run removes.
 */

export const BACKUP_ID = /^(\d{8}T\d{6}Z)(?:-(\d+))?$/;
export const PARTIAL_PREFIX = '.partial-';

export function isBackupId(name: string): boolean {
  return BACKUP_ID.test(name);
}

export function timestampId(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** A fresh id for `now`, unique among the names already present in the location. */
export function newBackupId(now: Date, taken: ReadonlySet<string>): string {
  const base = timestampId(now);
  if (!taken.has(base) && !taken.has(partialName(base))) return base;
  for (let n = 2; ; n++) {
    const id = `${base}-${n}`;
    if (!taken.has(id) && !taken.has(partialName(id))) return id;
  }
}

export function partialName(id: string): string {
  return `${PARTIAL_PREFIX}${id}`;
}

export function isPartialName(name: string): boolean {
  return name.startsWith(PARTIAL_PREFIX) && isBackupId(name.slice(PARTIAL_PREFIX.length));
}

/** Orders ids oldest first (timestamp, then the same-second counter). */
export function compareIds(a: string, b: string): number {
  const ma = BACKUP_ID.exec(a);
  const mb = BACKUP_ID.exec(b);
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (ma[1] !== mb[1]) return ma[1]! < mb[1]! ? -1 : 1;
  return Number(ma[2] ?? 1) - Number(mb[2] ?? 1);
}
