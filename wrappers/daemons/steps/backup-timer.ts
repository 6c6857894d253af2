import { backupSettings, commandContext, mediaLocation } from '../../../hooks-src/backup/context.js';
import { installInterruptHandlers } from '../../../hooks-src/backup/interrupt.js';
import { Progress, formatDuration } from '../../../hooks-src/backup/progress.js';
import { runBackup } from '../../../hooks-src/backup/run-backup.js';
import { listBackups } from '../../../hooks-src/backup/store.js';
import { step } from '../../../hooks-src/snap/log.js';

const WEEK_MS = 6.5 * 24 * 3600 * 1000;

/** The work of `bin/backup-timer` past --help; what the daemon is: ../backup-timer.ts. */
export async function backupTimer(): Promise<number | void> {
  const ctx = commandContext('backup-timer');
  const s = await backupSettings(ctx);
  if (s.schedule === 'off') {
    step('backup-timer: backup.schedule is off; nothing to do');
    return 0;
  }
  if (s.schedule === 'weekly') {
    const last = listBackups(s.location).filter((b) => b.manifest?.trigger === 'scheduled').at(-1)?.manifest;
    if (last && Date.now() - Date.parse(last.createdAt) < WEEK_MS) {
      step(`backup-timer: weekly schedule; the last scheduled backup (${last.id}) is recent enough`);
      return 0;
    }
  }
  process.env.UV_THREADPOOL_SIZE ??= '16';
  installInterruptHandlers('exit');
  const r = await runBackup(ctx, {
    location: s.location,
    assets: s.assets,
    regenerable: false,
    trigger: 'scheduled',
    keep: s.keep,
    pruneTriggers: ['scheduled'],
    progress: new Progress(false),
    mediaRoot: await mediaLocation(ctx),
  });
  step(`backup-timer: backup ${r.manifest.id} written to ${r.dir} in ${formatDuration(r.durationMs)}${r.pruned.length ? `; removed ${r.pruned.join(', ')}` : ''}`);
  return 0;
}
