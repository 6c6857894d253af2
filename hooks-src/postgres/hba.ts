/**
 * pg_hba.conf and pg_ident.conf (pure). Who may log in, and how:
 * - over the unix socket, by peer (kernel-verified OS user) through the `snap` ident map:
 *   OS root and the daemon user as `postgres`, OS root as `immich` (the Immich daemons run as root);
 * - over TCP, on loopback only, with a scram-sha-256 password;
 * - nothing else (no trust, no md5, no remote addresses, no replication entries).
 */

export const IDENT_MAP = 'snap';
export const SUPERUSER_ROLE = 'postgres';
export const IMMICH_ROLE = 'immich';

export interface HbaInput {
  /** The OS user Postgres runs as (`_daemon_`). */
  daemonUser: string;
}

const NAME = /^[a-z_][a-z0-9_-]*$/;

function checkName(what: string, value: string): string {
  if (!NAME.test(value)) throw new Error(`${what} is not a plain user name: ${JSON.stringify(value)}`);
  return value;
}

export function renderHba(): string {
  return [
    '# Written by immich-distribution; edits are overwritten.',
    '# TYPE  DATABASE  USER  ADDRESS        METHOD',
    `local   all       all                  peer map=${IDENT_MAP}`,
    'host    all       all   127.0.0.1/32   scram-sha-256',
    'host    all       all   ::1/128        scram-sha-256',
    '',
  ].join('\n');
}

export function renderIdent(input: HbaInput): string {
  const daemon = checkName('daemon user', input.daemonUser);
  return [
    '# Written by immich-distribution; edits are overwritten.',
    '# MAPNAME  SYSTEM-USERNAME  PG-USERNAME',
    `${IDENT_MAP}  root  ${SUPERUSER_ROLE}`,
    `${IDENT_MAP}  ${daemon}  ${SUPERUSER_ROLE}`,
    `${IDENT_MAP}  root  ${IMMICH_ROLE}`,
    '',
  ].join('\n');
}
