import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../hooks-src/snap/errors.js';
import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * `sudo immich-distribution.psql [psql arguments…]`: psql as the Postgres superuser over the unix
 * socket (peer authentication: no password) on database `immich`. The defaults are given through
 * PGHOST/PGPORT/PGUSER/PGDATABASE, so every argument reaches psql untouched (`-d other`, `-U`,
 * a positional database name, `-c`, `-f`, `\copy`, pipes) and psql's exit status is ours.
 */
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };

runEntry({
  name: 'psql',
  usage: 'usage: sudo immich-distribution.psql [psql options]   (database immich as postgres; psql --help follows)\n\n',
  programHelpFollows: true,
  run: async (argv) => {
    // Loaded only past --help: answering it evaluates nothing else (docs/startup.md).
    const [{ commandContext, postgresDownMessage, pgTarget }, { IMMICH_DATABASE }, { SUPERUSER_ROLE }, { shippedPgMajors }] = await Promise.all([
      import('../../hooks-src/backup/context.js'),
      import('../../hooks-src/postgres/bootstrap.js'),
      import('../../hooks-src/postgres/hba.js'),
      import('../../hooks-src/snap/paths.js'),
    ]);
    const ctx = commandContext('psql');
    const major = shippedPgMajors(ctx.paths)[0];
    if (major === undefined) throw new UserError(`no PostgreSQL found under ${ctx.paths.pgRoot}; the snap is incomplete`);
    const target = pgTarget(ctx.paths);
    if (!existsSync(join(target.socketDir, `.s.PGSQL.${target.port}`))) throw new UserError(postgresDownMessage(ctx.env.SNAP_INSTANCE_NAME));

    const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: target.socketDir, PGPORT: String(target.port), PGUSER: SUPERUSER_ROLE, PGDATABASE: IMMICH_DATABASE };
    delete env.PGPASSWORD;
    delete env.PGSERVICE;
    // psql handles Ctrl-C itself (cancels the running query); we must not die of it.
    for (const sig of ['SIGINT', 'SIGQUIT'] as const) process.on(sig, () => undefined);
    return new Promise<number>((resolve, reject) => {
      const child = spawn(ctx.paths.pgBin(major, 'psql'), argv, { stdio: 'inherit', env });
      process.on('SIGTERM', () => child.kill('SIGTERM'));
      process.on('SIGHUP', () => child.kill('SIGHUP'));
      child.once('error', (err) => reject(new UserError(`cannot start psql: ${err.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 1) : 1)));
    });
  },
});
