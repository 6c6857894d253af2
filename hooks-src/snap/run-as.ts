import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';
import { type CommandRunner, type RunOptions, type RunResult, runCommand } from './exec.js';

/** The core24 system user Postgres runs as (`system-usernames: {_daemon_: shared}`). */
export const DAEMON_USER = '_daemon_';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Looks a user up in /etc/passwd (inside a strict snap that is the host's file). */
export function lookupUser(name: string, passwd = '/etc/passwd'): Account {
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new UserError(`system user ${name} does not exist; snapd creates it for snaps that declare system-usernames`);
}

let daemonAccount: Account | undefined;
export function daemonUser(): Account {
  daemonAccount ??= lookupUser(DAEMON_USER);
  return daemonAccount;
}

/** Runs a program as `_daemon_` (setuid/setgid, supplementary groups dropped by libuv). */
export function runAsDaemon(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
  run: CommandRunner = runCommand,
): Promise<RunResult> {
  const { uid, gid } = daemonUser();
  return run(file, args, { cwd: '/', ...options, uid, gid });
}
