// TEST DOUBLE of Immich v3.2.0's admin CLI (`node dist/main immich-admin <command>`, nest-commander
// ImmichAdminModule started by server/src/main.ts, commit 0419539c08343c8ca720969666fb7fdd8bb79189).
// Simplified: only `list-users` is implemented; every other command says so and exits 1.
import { Database } from './database.js';
import { parseImmichEnv } from './env.js';
import { setLogLevel } from './log.js';

const COMMANDS = [
  'change-media-location',
  'disable-maintenance-mode',
  'disable-oauth-login',
  'disable-password-login',
  'enable-maintenance-mode',
  'enable-oauth-login',
  'enable-password-login',
  'list-users',
  'reset-admin-password',
];

export async function runAdminCli(args: string[]): Promise<number> {
  process.title = 'immich_admin_cli';
  setLogLevel('warn');
  const command = args[0];
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`Usage: immich-admin [options] [command]\n\nCommands:\n${COMMANDS.map((c) => `  ${c}`).join('\n')}\n`);
    return command ? 0 : 1;
  }
  if (!COMMANDS.includes(command)) {
    process.stderr.write(`error: unknown command '${command}'\n`);
    return 1;
  }
  if (command !== 'list-users') {
    process.stderr.write(`immich-admin ${command}: not implemented by the immich-distribution test double\n`);
    return 1;
  }
  const parsed = parseImmichEnv(process.env);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n`);
    return 1;
  }
  const db = new Database(parsed.config.database.config);
  try {
    const { rows } = await db.query('SELECT id, email, name, "isAdmin", "createdAt" FROM "user" ORDER BY "createdAt"');
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  } finally {
    await db.end();
  }
}
