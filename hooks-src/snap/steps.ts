import { step as log } from './log.js';

/**
 * A hook as a list of named steps, run in order. Each step logs `<hook>: <step>` on stderr (what
 * snapd shows the user when the hook fails), so a failure reads as "which step, then why".
 *
 * TEST-ONLY FAULT INJECTION: when the environment variable IMMICH_DISTRIBUTION_FAILPOINT equals
 * `<hook>:<step>`, the process SIGKILLs itself as that step begins, exactly as if snapd's timeout
 * or a power cut had struck there. The integration tests use it to prove every hook converges when
 * run again. `<hook>:<step>:stop` SIGSTOPs it there instead, so that a test can change the world
 * at that exact point (fill the disk) before it sends SIGCONT. snapd never sets this variable, and
 * a hook's environment cannot be set by a user, so it is inert in production.
 */
export interface Step {
  name: string;
  run: () => Promise<void> | void;
}

export const FAILPOINT_ENV = 'IMMICH_DISTRIBUTION_FAILPOINT';

export function failpointHit(hook: string, stepName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return env[FAILPOINT_ENV] === `${hook}:${stepName}`;
}

export async function runSteps(hook: string, steps: readonly Step[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new Error(`duplicate step name ${s.name}`);
    names.add(s.name);
  }
  for (const s of steps) {
    if (failpointHit(hook, s.name, env)) process.kill(process.pid, 'SIGKILL');
    if (failpointHit(hook, `${s.name}:stop`, env)) process.kill(process.pid, 'SIGSTOP');
    log(`${hook}: ${s.name}`);
    await s.run();
  }
}
