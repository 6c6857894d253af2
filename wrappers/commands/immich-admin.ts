import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../../hooks-src/snap/errors.js';
import { runEntry } from '../../hooks-src/snap/main.js';

/**
 * `sudo immich-distribution.immich-admin <command>`: Immich's own admin CLI (`immich-admin` in
 * Immich's images is `node dist/main immich-admin "$@"`), with the server's environment file
 * loaded so it reaches the same database and media as the server. Arguments pass through.
 */
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

runEntry({
  name: 'immich-admin',
  usage: "usage: sudo immich-distribution.immich-admin <command> [options]   (Immich's admin CLI; its own help follows inside the snap)\n",
  programHelpFollows: true,
  run: async (argv) => {
    // Loaded only past --help: answering it evaluates nothing else (docs/startup.md).
    const [{ commandContext }, { parseEnvFile }] = await Promise.all([import('../../hooks-src/backup/context.js'), import('../../hooks-src/immich/env.js')]);
    const ctx = commandContext('immich-admin');
    const main = ctx.paths.immichServerMain;
    if (!existsSync(main)) throw new UserError(`Immich is not part of this build (${main} is missing)`);
    if (!existsSync(ctx.paths.immichServerEnv)) throw new UserError(`${ctx.paths.immichServerEnv} is missing; the install hook did not complete (reinstall the snap)`);
    const fileEnv = parseEnvFile(readFileSync(ctx.paths.immichServerEnv, 'utf8'));
    const env: NodeJS.ProcessEnv = { ...process.env, ...fileEnv, NODE_ENV: 'production' };
    for (const sig of ['SIGINT'] as const) process.on(sig, () => undefined);
    return new Promise<number>((resolve, reject) => {
      const child = spawn(ctx.paths.node, [main, 'immich-admin', ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: `${ctx.paths.immichServerMain.replace(/\/dist\/main\.js$/, '')}` });
      process.on('SIGTERM', () => child.kill('SIGTERM'));
      child.once('error', (err) => reject(new UserError(`cannot start Immich's admin CLI: ${err.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 1) : 1)));
    });
  },
});
