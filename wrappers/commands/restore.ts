import { createInterface } from 'node:readline/promises';
import { UserError } from '../../hooks-src/snap/errors.js';
import { parseCommandArgs, runEntry } from '../../hooks-src/snap/main.js';

const HELP = `usage: sudo immich-distribution.restore BACKUP [options]
       sudo immich-distribution.restore --recover

Restores a backup made by immich-distribution.backup. BACKUP is a backup id from
\`immich-distribution.backup --list\` or the path of a backup directory.

Everything is verified first (manifest, checksums of every file, the dump's table of
contents); the database is restored into a new database and swapped in only when that
succeeded; media go through a staging folder. A failure at any step keeps the current data.

  --yes              do not ask for confirmation (required when not on a terminal)
  --database-only    restore only the database, leave the media as they are
  --recover          finish or undo a restore that was interrupted, and nothing else
  --json             print the result as JSON on stdout
  -h, --help         this help
`;

runEntry({
  name: 'restore',
  usage: HELP,
  run: async () => {
    const parsed = parseCommandArgs({
      options: {
        yes: { type: 'boolean', short: 'y', default: false },
        'database-only': { type: 'boolean', default: false },
        recover: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    const args = parsed.values;
    // Loaded only past --help and the argument check: answering them evaluates nothing else (docs/startup.md).
    const [{ acquireLock, backupSettings, commandContext, mediaLocation }, { installInterruptHandlers }, { Progress, formatDuration }, { recoverInterrupted, runRestore }, { resolveBackup }] =
      await Promise.all([
        import('../../hooks-src/backup/context.js'),
        import('../../hooks-src/backup/interrupt.js'),
        import('../../hooks-src/backup/progress.js'),
        import('../../hooks-src/backup/restore.js'),
        import('../../hooks-src/backup/store.js'),
      ]);
    const ctx = commandContext('restore');
    installInterruptHandlers('abort');

    if (args.recover) {
      if (parsed.positionals.length > 0) throw new UserError('--recover takes no backup', 2);
      const release = acquireLock(ctx.paths.backupLock, 'recovery');
      try {
        const done = await recoverInterrupted(ctx);
        process.stdout.write(done === 'none' ? 'no interrupted restore to recover\n' : `interrupted restore ${done}\n`);
      } finally {
        release();
      }
      return 0;
    }

    if (parsed.positionals.length !== 1) throw new UserError('name one backup (an id from `backup --list`, or a directory); see --help', 2);
    const settings = await backupSettings(ctx);
    const backupDir = resolveBackup(settings.location, parsed.positionals[0]!);

    if (!args.yes) {
      if (!process.stdin.isTTY) throw new UserError('restore replaces the current database and media; add --yes to confirm', 2);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`Replace the current Immich data with backup ${backupDir}? Type yes to continue: `);
      rl.close();
      if (answer.trim() !== 'yes') throw new UserError('not confirmed; nothing was changed');
    }

    const started = Date.now();
    const r = await runRestore(ctx, { backupDir, media: !args['database-only'], progress: new Progress(), mediaRoot: await mediaLocation(ctx) });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ restored: r.manifest.id, durationMs: Date.now() - started, media: Boolean(r.manifest.media) && !args['database-only'] }, null, 2)}\n`);
    } else {
      process.stdout.write(`restored backup ${r.manifest.id} in ${formatDuration(Date.now() - started)}\n`);
    }
    return 0;
  },
});
