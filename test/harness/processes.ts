import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** What /proc says about one process. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** /proc/PID/stat's state: R running, S sleeping, T stopped, Z zombie, ... */
  state: string;
  uid: number;
  /** The executable's real path (`/proc/PID/exe`), '' when unreadable (a kernel thread). */
  exe: string;
  argv: string[];
  /** Resident set size, KiB (VmRSS): shared pages count in every process that maps them. */
  rssKiB: number;
  /** Proportional set size, KiB (smaps_rollup Pss): shared pages split among their users, so sums add up. */
  pssKiB: number;
}

export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1] ?? '';
    // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      /* a kernel thread, or gone */
    }
    return {
      pid,
      ppid: Number(rest[1]),
      pgid: Number(rest[2]),
      state: rest[0] ?? '',
      uid: Number(field('Uid').split(/\s+/)[0]),
      exe,
      // NUL-separated; a process that set its title (process.title) pads it with NULs.
      argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0'),
      rssKiB: Number(field('VmRSS').replace(/\s*kB$/, '')) || 0,
      pssKiB: pss(pid),
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

function pss(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s*([0-9]+) kB$/m)?.[1] ?? 0);
  } catch {
    return 0; // a kernel thread, or gone
  }
}

export function allProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((d) => /^[0-9]+$/.test(d))
    .map((d) => processInfo(Number(d)))
    .filter((p): p is ProcessInfo => p !== undefined);
}

/**
 * Processes running one of OUR executables of the snap at `snapDir` (its bin/ wrappers, commands,
 * timer jobs, or meta/hooks): the Node bundles, as opposed to the services they start.
 */
export function ourProcesses(snapDir: string, all: ProcessInfo[] = allProcesses()): ProcessInfo[] {
  const ours = [join(snapDir, 'bin') + '/', join(snapDir, 'meta/hooks') + '/'];
  return all.filter((p) => p.argv.slice(0, 2).some((a) => ours.some((prefix) => a.startsWith(prefix))));
}

/** A process and its descendants (by ppid), from one snapshot of /proc. */
export function processTree(pid: number, all: ProcessInfo[] = allProcesses()): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.shift()!;
    const info = all.find((x) => x.pid === p);
    if (!info) continue;
    out.push(info);
    for (const c of all) if (c.ppid === p) todo.push(c.pid);
  }
  return out;
}
