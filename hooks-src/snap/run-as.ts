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

/** The accounts of /etc/passwd (inside a strict snap that is the host's file). */
function accounts(passwd: string): Account[] {
  const out: Account[] = [];
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid !== undefined && gid !== undefined) out.push({ name, uid: Number(uid), gid: Number(gid) });
  }
  return out;
}

/** Looks a user up by name. */
export function lookupUser(name: string, passwd = '/etc/passwd'): Account {
  const a = accounts(passwd).find((x) => x.name === name);
  if (!a) throw new UserError(`system user ${name} does not exist; snapd creates it for snaps that declare system-usernames`);
  return a;
}

/** The name of a uid (what Postgres' peer authentication sees), or the uid itself when unknown. */
export function userNameOf(uid: number, passwd = '/etc/passwd'): string {
  try {
    return accounts(passwd).find((x) => x.uid === uid)?.name ?? String(uid);
  } catch {
    return String(uid); // no passwd file: the uid stands
  }
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
