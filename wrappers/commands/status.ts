import { parseCommandArgs, runEntry } from '../../hooks-src/snap/main.js';

const HELP = `usage: sudo immich-distribution.status [--json]

Services, health probes, versions (snap, Immich, Postgres, extensions), listening ports, disk use
of each data area, the last backup and pending migrations. Exit 0 when every health probe passed,
1 otherwise.
`;

runEntry({
  name: 'status',
  usage: HELP,
  run: async () => {
    const json = Boolean(parseCommandArgs({ options: { json: { type: 'boolean' } }, strict: true }).values.json);
    // Loaded only past --help and the argument check: answering them evaluates nothing else (docs/startup.md).
    const [{ commandContext }, { collectStatus }, { renderStatus }] = await Promise.all([
      import('../../hooks-src/backup/context.js'),
      import('../../hooks-src/status/collect.js'),
      import('../../hooks-src/status/render.js'),
    ]);
    const report = await collectStatus(commandContext('status'));
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
    return Object.values(report.health).every((h) => h.ok) ? 0 : 1;
  },
});
