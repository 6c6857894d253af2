import { availableParallelism, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { UserError } from '../snap/errors.js';

/**
 * RAM and CPUs the tuning is computed from. The real figures come from the kernel (the cgroup's
 * memory limit when it is lower than the machine's RAM). IMMICH_DISTRIBUTION_RAM_BYTES and
 * IMMICH_DISTRIBUTION_CPUS override them: a test-only hook (snapd never sets them) so the
 * integration tests can render the configuration of a 1 GiB and of a 16 GiB machine.
 */
export interface Machine {
  ramBytes: number;
  cpus: number;
}

export const RAM_ENV = 'IMMICH_DISTRIBUTION_RAM_BYTES';
export const CPUS_ENV = 'IMMICH_DISTRIBUTION_CPUS';

function positiveInt(name: string, raw: string): number {
  if (!/^[1-9]\d*$/.test(raw)) throw new UserError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function cgroupMemoryLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (!line) return undefined;
    const raw = readFileSync(`/sys/fs/cgroup${line.slice(3)}/memory.max`, 'utf8').trim();
    return /^\d+$/.test(raw) ? Number(raw) : undefined;
  } catch {
    return undefined; // cgroup v1, or not readable under confinement: use the machine's RAM
  }
}

export function detectMachine(env: NodeJS.ProcessEnv = process.env): Machine {
  const ramOverride = env[RAM_ENV];
  const cpusOverride = env[CPUS_ENV];
  const limit = cgroupMemoryLimit();
  const ram = ramOverride ? positiveInt(RAM_ENV, ramOverride) : Math.min(totalmem(), limit ?? Infinity);
  const cpus = cpusOverride ? positiveInt(CPUS_ENV, cpusOverride) : availableParallelism();
  return { ramBytes: ram, cpus };
}
