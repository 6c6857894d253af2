import { createHash } from 'node:crypto';
import {
  RENDER_TARGETS,
  RUN_STATE,
  SERVICES,
  SETTING_KEYS,
  type RenderTarget,
  type ServiceEffect,
  type ServiceName,
  type SettingKey,
  type Settings,
  type SettingsContext,
  type StepName,
  isActive,
  settingDef,
  shouldRun,
} from './schema.js';
import { validateSettings } from './validate.js';

/**
 * What applying new settings does, derived from the schema's `affects`, `render`, `steps` and
 * `activeWhen` (schema.ts), in the order it must happen:
 *
 *   1. check-location (media, backup): refuse before anything changes
 *   2. certificate: make the new mode's certificate present
 *   3. render: every file whose inputs changed (atomic, validated)
 *   4. stop-disable: services that must no longer run
 *   5. postgres restart/reload
 *   6. rotate-database-password (needs Postgres up)
 *   7. update-immich-ml-config (needs Postgres up)
 *   8. immich-server restart
 *   9. immich-machine-learning restart / start-enable
 *  10. haproxy reload (last: its backends are in place; never a restart)
 *  11. start-enable of timers (backup-timer, acme-renew)
 */
export type ServiceAction = 'reload' | 'restart' | 'start-enable' | 'stop-disable';

export type PlanStep =
  | { kind: 'check-location'; key: 'media.location' | 'backup.location'; from: string | undefined; to: string }
  | { kind: 'certificate'; mode: 'self-signed' | 'custom' | 'acme' }
  | { kind: 'render'; file: RenderTarget }
  | { kind: 'rotate-database-password' }
  | { kind: 'update-immich-ml-config' }
  | {
      kind: 'service';
      service: ServiceName;
      action: ServiceAction;
      /** The keys (or "postgres restart", "certificate") that call for it; for logs. */
      because: string[];
      /**
       * Only on a first run: do it only if rendering changed one of these files (the service was
       * started by snapd with whatever the install hook rendered).
       */
      onlyIfChanged?: RenderTarget[];
    };

export interface Plan {
  /** No record of previously applied settings existed. */
  firstRun: boolean;
  /** Keys whose value differs from the applied record (every key on a first run). */
  changed: SettingKey[];
  steps: PlanStep[];
}

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

/** What the applied record keeps of a password: a fingerprint, never the password itself. */
export function passwordFingerprint(password: string): string {
  return FINGERPRINT.test(password) ? password : `sha256:${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

/** Settings as the configure hook records them after applying them (password fingerprinted). */
export function recordOf(settings: Settings): Settings {
  const pw = settings['database-password'];
  return { ...settings, 'database-password': pw === undefined ? undefined : passwordFingerprint(pw) };
}

/**
 * Reads a record written by recordOf (possibly by an older revision). A record that no longer
 * validates counts as no record at all: the next plan is then a first run, which is always safe.
 */
export function parseRecord(json: string, ctx: SettingsContext): Settings | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const { 'database-password': pw, ...rest } = doc as Record<string, unknown>;
  const result = validateSettings(rest, ctx);
  if (!result.ok) return undefined;
  return { ...result.settings, 'database-password': typeof pw === 'string' && FINGERPRINT.test(pw) ? pw : undefined };
}

function same(key: SettingKey, a: unknown, b: unknown): boolean {
  if (settingDef(key).secret) {
    // Unset means "keep the current password": never a change.
    if (b === undefined) return true;
    return a !== undefined && passwordFingerprint(String(a)) === passwordFingerprint(String(b));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

const PHASE: Record<string, number> = {
  'check-location': 1,
  certificate: 2,
  render: 3,
  'stop-disable': 4,
  postgres: 5,
  'rotate-database-password': 6,
  'update-immich-ml-config': 7,
  'immich-server': 8,
  'immich-machine-learning': 9,
  haproxy: 10,
  timers: 11,
};

function phaseOf(step: PlanStep): number {
  if (step.kind !== 'service') return PHASE[step.kind]!;
  if (step.action === 'stop-disable') return PHASE['stop-disable']!;
  return PHASE[step.service] ?? PHASE['timers']!;
}

function ordered(steps: PlanStep[]): PlanStep[] {
  // Stable sort: within a phase, the order the planner produced (render targets in RENDER_TARGETS order).
  return steps.map((s, i) => ({ s, i })).sort((a, b) => phaseOf(a.s) - phaseOf(b.s) || a.i - b.i).map((x) => x.s);
}

function certificateStep(s: Settings): PlanStep[] {
  const mode = s['https.mode'];
  return mode === 'off' ? [] : [{ kind: 'certificate', mode }];
}

/**
 * The plan to go from the applied settings `previous` to `next`. Empty when nothing changed.
 *
 * Rules (all data from schema.ts):
 * - a changed key re-renders its files, whether or not it currently matters (a file is never left
 *   stale for the day the key starts to matter);
 * - its steps and service effects apply only when the key is active (`activeWhen`) in the old or
 *   the new settings (e.g. https.cert while HTTPS is off touches nothing);
 * - a service that settings switch on and off (RUN_STATE) is start-enabled or stop-disabled when
 *   that decision flips, restarted only if it runs, and left alone while it is off;
 * - a Postgres restart also restarts immich-server (its pooled connections are cut);
 * - a certificate step brings a HAProxy reload (the certificate may have changed);
 * - HAProxy is only ever reloaded; restart beats reload for the same service.
 */
export function planChanges(previous: Settings | undefined, next: Settings): Plan {
  if (previous === undefined) return firstRunPlan(next);

  const changed = SETTING_KEYS.filter((k) => !same(k, previous[k], next[k]));
  const active = changed.filter((k) => isActive(k, previous) || isActive(k, next));
  const steps: PlanStep[] = [];

  const render = new Set<RenderTarget>(changed.flatMap((k) => settingDef(k).render));
  for (const file of RENDER_TARGETS) if (render.has(file)) steps.push({ kind: 'render', file });

  const stepNames = new Set<StepName>(active.flatMap((k) => settingDef(k).steps ?? []));
  if (stepNames.has('check-media-location')) {
    steps.push({ kind: 'check-location', key: 'media.location', from: previous['media.location'], to: next['media.location'] });
  }
  if (stepNames.has('check-backup-location')) {
    steps.push({ kind: 'check-location', key: 'backup.location', from: previous['backup.location'], to: next['backup.location'] });
  }
  const certificate = stepNames.has('certificate') ? certificateStep(next) : [];
  steps.push(...certificate);
  if (stepNames.has('rotate-database-password') && next['database-password'] !== undefined) steps.push({ kind: 'rotate-database-password' });
  if (stepNames.has('update-immich-ml-config')) steps.push({ kind: 'update-immich-ml-config' });

  // Which keys call for which effect on each service.
  const wants = new Map<ServiceName, Map<ServiceEffect, string[]>>();
  const want = (service: ServiceName, effect: ServiceEffect, why: string) => {
    const byEffect = wants.get(service) ?? new Map<ServiceEffect, string[]>();
    byEffect.set(effect, [...(byEffect.get(effect) ?? []), why]);
    wants.set(service, byEffect);
  };
  for (const k of active) {
    for (const [service, effect] of Object.entries(settingDef(k).affects) as [ServiceName, ServiceEffect][]) want(service, effect, k);
  }
  if (certificate.length > 0) want('haproxy', 'reload', 'certificate');
  if (wants.get('postgres')?.has('restart')) want('immich-server', 'restart', 'postgres restart');

  for (const service of SERVICES) {
    const byEffect = wants.get(service);
    if (!byEffect) continue;
    const all = [...new Set([...byEffect.values()].flat())];
    if (RUN_STATE[service]) {
      const before = shouldRun(service, previous);
      const after = shouldRun(service, next);
      if (before !== after) {
        steps.push({ kind: 'service', service, action: after ? 'start-enable' : 'stop-disable', because: all });
        continue;
      }
      if (!after) continue;
    }
    const restart = byEffect.get('restart');
    const reload = byEffect.get('reload');
    // HAProxy is never restarted for a config change (SPEC §3).
    if (restart && service !== 'haproxy') steps.push({ kind: 'service', service, action: 'restart', because: restart });
    else if (reload ?? restart) steps.push({ kind: 'service', service, action: 'reload', because: all });
  }

  return { firstRun: false, changed, steps: ordered(steps) };
}

/**
 * First run (no record: a fresh install, or a record that no longer validates). Everything is
 * rendered and every check and certificate step runs, because nothing says what is in place. But a
 * running service is not restarted blindly: snapd started it after the install hook rendered its
 * files, so it is restarted only if rendering changed one of the files it reads (`onlyIfChanged`,
 * decided by the executor after rendering). HAProxy is reloaded unconditionally (graceful, and it
 * starts HAProxy if it could not start before). Services that settings switch on and off are
 * brought to their desired state (start-enable / stop-disable are idempotent).
 */
function firstRunPlan(next: Settings): Plan {
  const steps: PlanStep[] = [
    { kind: 'check-location', key: 'media.location', from: undefined, to: next['media.location'] },
    { kind: 'check-location', key: 'backup.location', from: undefined, to: next['backup.location'] },
    ...certificateStep(next),
    ...RENDER_TARGETS.map((file): PlanStep => ({ kind: 'render', file })),
  ];
  if (next['database-password'] !== undefined) steps.push({ kind: 'rotate-database-password' });
  steps.push({ kind: 'update-immich-ml-config' });

  const why = ['first run'];
  const pgFiles: RenderTarget[] = ['postgresql.conf', 'pg_hba.conf'];
  steps.push({ kind: 'service', service: 'postgres', action: 'restart', because: why, onlyIfChanged: pgFiles });
  steps.push({ kind: 'service', service: 'immich-server', action: 'restart', because: why, onlyIfChanged: ['immich-server.env', ...pgFiles] });
  steps.push({ kind: 'service', service: 'haproxy', action: 'reload', because: why });
  for (const service of Object.keys(RUN_STATE) as ServiceName[]) {
    if (!shouldRun(service, next)) {
      steps.push({ kind: 'service', service, action: 'stop-disable', because: why });
      continue;
    }
    if (service === 'immich-machine-learning') {
      steps.push({ kind: 'service', service, action: 'restart', because: why, onlyIfChanged: ['immich-ml.env'] });
    }
    steps.push({ kind: 'service', service, action: 'start-enable', because: why });
  }
  return { firstRun: true, changed: [...SETTING_KEYS], steps: ordered(steps) };
}
