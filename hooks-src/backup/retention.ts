import { compareIds } from './naming.js';

/**
 * Retention (pure): which complete backups to delete so that `keep` remain. Only backups whose
 * trigger is in `triggers` are counted and deleted: the timer prunes its own scheduled backups and
 * never a backup someone made by hand; `backup --keep N` prunes every kind.
 * Deleting an old snapshot never harms a newer one: shared media files are hard links, so each
 * snapshot holds its own link to every file it lists.
 */
/** What made a backup: by hand, the timer, a restore (of what it replaced), post-refresh's safety dump. */
export const TRIGGERS = ['manual', 'scheduled', 'pre-restore', 'pre-upgrade'] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface BackupRef {
  id: string;
  trigger: Trigger;
}

export function planRetention(backups: readonly BackupRef[], keep: number, triggers?: readonly Trigger[]): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new Error('keep must be a whole number of at least 1');
  const counted = backups.filter((b) => !triggers || triggers.includes(b.trigger)).sort((a, b) => compareIds(b.id, a.id));
  return counted.slice(keep).map((b) => b.id);
}
