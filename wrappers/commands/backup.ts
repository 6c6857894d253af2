import { UserError } from '../../hooks-src/snap/errors.js';
import { parseCommandArgs, runEntry } from '../../hooks-src/snap/main.js';

const HELP = `usage: sudo immich-distribution.backup [options]

Makes a verified backup of the database (and, with --assets, the media) in backup.location.

  --assets            also back up the media: library/, upload/, profile/ (incremental:
                      unchanged files are hard links to the previous backup)
  --with-thumbnails   with --assets, also thumbs/ and encoded-video/ (regenerable)
  --keep N            afterwards keep only the N newest backups in the location
  --to DIR            write to DIR instead of backup.location
  --list              list the backups in the location
  --json              print the result (or the list) as JSON on stdout
  -h, --help          this help
`;

runEntry({
  name: 'backup',
  usage: HELP,
  run: async () => {
    const args = parseCommandArgs({
      options: {
        assets: { type: 'boolean', default: false },
        'with-thumbnails': { type: 'boolean', default: false },
        keep: { type: 'string' },
        to: { type: 'string' },
        list: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
    const keep = args.keep === undefined ? undefined : /^\d+$/.test(args.keep) && Number(args.keep) >= 1 ? Number(args.keep) : NaN;
    if (Number.isNaN(keep)) throw new UserError(`--keep needs a whole number of at least 1, not ${JSON.stringify(args.keep)}`, 2);
    if (args.to !== undefined && !args.to.startsWith('/')) throw new UserError('--to needs an absolute path', 2);

    // Loaded only past --help and the argument checks: answering them evaluates nothing else (docs/startup.md).
    const [{ backupSettings, commandContext, mediaLocation }, { installInterruptHandlers }, { Progress, formatBytes, formatDuration }, { runBackup }, { listBackups }] =
      await Promise.all([
        import('../../hooks-src/backup/context.js'),
        import('../../hooks-src/backup/interrupt.js'),
        import('../../hooks-src/backup/progress.js'),
        import('../../hooks-src/backup/run-backup.js'),
        import('../../hooks-src/backup/store.js'),
      ]);
    const ctx = commandContext('backup');
    const settings = await backupSettings(ctx);
    const location = args.to ?? settings.location;

    if (args.list) {
      const backups = listBackups(location);
      if (args.json) {
        process.stdout.write(`${JSON.stringify(backups.map((b) => ({ id: b.id, path: b.dir, manifest: b.manifest ?? null, problem: b.problem ?? null })), null, 2)}\n`);
        return 0;
      }
      if (backups.length === 0) {
        process.stdout.write(`no backups in ${location}\n`);
        return 0;
      }
      const rows = [['ID', 'CREATED', 'TRIGGER', 'DATABASE', 'MEDIA', 'IMMICH']];
      for (const b of backups) {
        const m = b.manifest;
        rows.push(
          m
            ? [b.id, m.createdAt.replace(/\.\d+Z$/, 'Z'), m.trigger, formatBytes(m.database.bytes), m.media ? `${m.media.files} files, ${formatBytes(m.media.bytes)}` : '-', m.state?.immichVersion ?? '?']
            : [b.id, '-', '-', '-', '-', `damaged: ${b.problem}`],
        );
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
      process.stdout.write(`(${location})\n`);
      return 0;
    }

    // Media metadata work (mkdir, link) runs on libuv's pool; before its first use, make it wider.
    process.env.UV_THREADPOOL_SIZE ??= '16';
    installInterruptHandlers('exit');
    const r = await runBackup(ctx, {
      location,
      assets: args.assets,
      regenerable: args['with-thumbnails'],
      trigger: 'manual',
      keep,
      progress: new Progress(),
      mediaRoot: await mediaLocation(ctx),
    });
    const m = r.manifest;
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ id: m.id, path: r.dir, durationMs: r.durationMs, pruned: r.pruned, manifest: m }, null, 2)}\n`);
    } else {
      const media = m.media ? `, media ${m.media.files} files (${m.media.copied} copied, ${m.media.linked} hard-linked)` : '';
      process.stdout.write(`backup ${m.id} written to ${r.dir} in ${formatDuration(r.durationMs)}: database ${formatBytes(m.database.bytes)}${media}\n`);
    }
    return 0;
  },
});
