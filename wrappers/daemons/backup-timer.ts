import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * The backup-timer daemon (oneshot; snapd's timer fires it nightly between 01:00 and 02:00).
 * It reads the validated backup.* settings and:
 *   - exits 0 at once when backup.schedule=off (so a `snap restart` or a stray start is harmless);
 *   - `weekly`: backs up only when the last scheduled backup is 6.5 days old or more;
 *   - makes a backup (media too when backup.assets=true) and keeps backup.keep SCHEDULED backups
 *     (manual backups are never deleted by the timer).
 * A failure exits non-zero, which systemd records for `snap services` and the journal.
 */
// Its work is in steps/backup-timer.ts, loaded only past --help (docs/startup.md).
runEntry({
  name: 'backup-timer',
  usage: 'backup-timer: the scheduled-backup job of immich-distribution (run by snapd\'s timer)\n',
  run: async () => (await import('./steps/backup-timer.js')).backupTimer(),
});
