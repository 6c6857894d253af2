import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * One run at a time (acme-renew; backup, restore and the backup timer): a pid file created with
 * O_EXCL; a file left by a process that is gone is taken over. Returns the release function, or
 * undefined when another live process holds it (lockHolder says which).
 */
export function tryLock(path: string): (() => void) | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readQuietly(path).trim());
      if (Number.isInteger(holder) && holder > 1 && alive(holder)) return undefined;
      try {
        unlinkSync(path);
      } catch {
        /* someone else took it over first */
      }
    }
  }
  return undefined;
}

function readQuietly(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid written in a lock file, if any. */
export function lockHolder(path: string): number | undefined {
  const pid = Number(readQuietly(path).trim());
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}
