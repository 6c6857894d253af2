import { writeImmichEnvFiles } from '../immich/files.js';
import { checkHaproxyConfigFile, installStartingPage } from '../haproxy/check.js';
import { writePostgresFiles } from '../postgres/files.js';
import { detectMachine } from '../postgres/machine.js';
import { readSecret } from '../secrets/secrets.js';
import type { Plan, PlanStep } from '../settings/plan.js';
import type { RenderTarget, Settings } from '../settings/schema.js';
import { UserError } from '../snap/errors.js';
import { writeFileIfChanged } from '../snap/files.js';
import { ensureDir, writeFileAtomic } from '../snap/fs.js';
import { step } from '../snap/log.js';
import type { SnapPaths } from '../snap/paths.js';
import type { Snapctl } from '../snap/snapctl.js';
import { readState } from '../state/state.js';
import { ensureSelfSigned, installCustomCertificate } from './certificates.js';
import { decide } from '../acme/acme.js';
import { checkLocation } from './locations.js';
import { readIfExists, renderHaproxy, renderTimerSettings } from './render.js';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { readFileSync, renameSync, rmSync } from 'node:fs';

export interface ApplyContext {
  paths: SnapPaths;
  snapctl: Snapctl;
  previous: Settings | undefined;
  settings: Settings;
  plan: Plan;
}

type Kind<K extends PlanStep['kind']> = Extract<PlanStep, { kind: K }>;

function stepsOf<K extends PlanStep['kind']>(plan: Plan, kind: K): Kind<K>[] {
  return plan.steps.filter((s): s is Kind<K> => s.kind === kind);
}

/**
 * Applies a plan in phases, so that nothing changes unless everything can:
 *   1. checks that can refuse (locations, certificates);
 *   2. candidate HAProxy config checked with `haproxy -c` before anything is written;
 *   3. the password rotation (transactional: ALTER ROLE and the secret file together);
 *   4. files written atomically (only those that differ);
 *   5. service actions through snapctl (snapd queues them until the hook has succeeded).
 */
export async function applyPlan(c: ApplyContext): Promise<void> {
  const { paths, snapctl, settings: s, plan } = c;

  // 1. Checks.
  for (const l of stepsOf(plan, 'check-location')) await checkLocation({ key: l.key, from: l.from, to: l.to, snapctl });
  let certificateChanged = false;
  let obtainAcme = false;
  for (const cert of stepsOf(plan, 'certificate')) {
    if (cert.mode === 'acme') obtainAcme = acmeCertificateNeeded(paths, s);
    else certificateChanged = (await ensureCertificate(paths, s, cert.mode)) || certificateChanged;
  }

  // 2. Render candidates (HAProxy checked before anything is written).
  const render = new Set<RenderTarget>(stepsOf(plan, 'render').map((r) => r.file));
  const haproxyCandidate = render.has('haproxy.cfg') ? renderHaproxy(paths, s) : undefined;
  const checked = haproxyCandidate !== undefined && haproxyCandidate !== readIfExists(paths.haproxyCfg) ? await checkCandidate(paths, haproxyCandidate) : undefined;
  try {
    await applyChecked(c, render, checked, certificateChanged, obtainAcme);
  } finally {
    if (checked) rmSync(checked, { force: true });
  }
}

async function applyChecked(
  c: ApplyContext,
  render: Set<RenderTarget>,
  checkedHaproxy: string | undefined,
  certificateChanged: boolean,
  obtainAcme: boolean,
): Promise<void> {
  const { paths, snapctl, settings: s, plan } = c;

  // Postgres runs (configure runs after services start) on the port it was started with: a new
  // internal.postgres-port takes effect only with the restart queued below.
  const runningPgPort = c.previous?.['internal.postgres-port'] ?? s['internal.postgres-port'];

  // 3. Password rotation.
  if (stepsOf(plan, 'rotate-database-password').length > 0 && s['database-password'] !== undefined) {
    // database.ts brings Postgres' client (pg): loaded only by the steps that talk to Postgres.
    const { rotateDatabasePassword } = await import('./database.js');
    const changed = await rotateDatabasePassword(paths, runningPgPort, s['database-password']);
    if (changed) step('configure: database password rotated');
  }

  // 4. Write files.
  const changedFiles = new Set<RenderTarget>();
  const state = readState(paths.stateFile);
  if (!state) throw new UserError(`${paths.stateFile} is missing; the install hook did not complete (reinstall the snap)`);
  if (render.has('postgresql.conf') || render.has('pg_hba.conf')) {
    const written = writePostgresFiles(paths, {
      major: state.postgresMajor,
      vector: state.vectorExtension.name,
      machine: detectMachine(),
      listenTcp: s['database.tcp'],
      port: s['internal.postgres-port'],
    });
    if (written.includes(paths.pgConf)) changedFiles.add('postgresql.conf');
    if (written.includes(paths.pgHba) || written.includes(paths.pgIdent)) changedFiles.add('pg_hba.conf');
  }
  if (render.has('immich-server.env') || render.has('immich-ml.env')) {
    const redisPassword = readSecret(paths, 'redis-password');
    if (!redisPassword) throw new UserError('the Redis password is missing; the install hook did not complete (reinstall the snap)');
    const written = writeImmichEnvFiles(paths, {
      vector: state.vectorExtension.name,
      redisPassword,
      mediaLocation: s['media.location'],
      logLevel: s['log.level'],
      serverPort: s['internal.server-port'],
      mlPort: s['internal.ml-port'],
      mlUrl: s['ml.url'],
      mlEnabled: s['ml.enabled'],
      dbPort: s['internal.postgres-port'],
      trustedProxies: s['proxy.trusted-proxies'],
      nodeOptions: s['server.node-options'].join(' '),
    });
    if (written.includes(paths.immichServerEnv)) changedFiles.add('immich-server.env');
    if (written.includes(paths.immichMlEnv)) changedFiles.add('immich-ml.env');
  }
  if (render.has('backup-settings') && writeFileIfChanged(paths.backupSettings, renderTimerSettings(s, 'backup'), 0o644)) changedFiles.add('backup-settings');
  if (render.has('acme-settings') && writeFileIfChanged(paths.acmeSettings, renderTimerSettings(s, 'acme'), 0o644)) changedFiles.add('acme-settings');
  const servedHaproxyCfg = readIfExists(paths.haproxyCfg);
  if (checkedHaproxy !== undefined) {
    // Checked with `haproxy -c` in phase 2; the rename is atomic.
    renameSync(checkedHaproxy, paths.haproxyCfg);
    changedFiles.add('haproxy.cfg');
  }
  if (certificateChanged) changedFiles.add('haproxy.cfg');

  // Immich's stored machine-learning settings (env vars only seed its defaults).
  if (stepsOf(plan, 'update-immich-ml-config').length > 0) await (await import('./database.js')).updateImmichMlConfig(paths, s, runningPgPort);

  // 5. Services (queued by snapd until this hook succeeds; HAProxy's reload is done here, below).
  for (const sv of stepsOf(plan, 'service')) {
    if (sv.onlyIfChanged && !sv.onlyIfChanged.some((f) => changedFiles.has(f))) continue;
    const name = paths.service(sv.service);
    step(`configure: ${sv.action} ${sv.service} (${sv.because.join(', ')})`);
    if (sv.action === 'reload' && sv.service === 'haproxy') await reloadHaproxyNow(paths, snapctl, servedHaproxyCfg);
    else if (sv.action === 'reload') await snapctl.restart([name], { reload: true });
    else if (sv.action === 'restart') await snapctl.restart([name]);
    else if (sv.action === 'start-enable') await snapctl.start([name], { enable: true });
    else await snapctl.stop([name], { disable: true });
  }
  // The acme-renew timer app obtains the certificate. snapd's `start` of a timer app only arms
  // its timer (wrappers.StartServices), so run it once now: an explicit restart of its oneshot
  // service, which snapd runs after this hook, after the HAProxy reload above (the challenge route
  // is in place), and which ends with a graceful HAProxy reload that starts serving HTTPS.
  if (obtainAcme) {
    step(`configure: acme-renew will obtain the certificate for ${s['https.acme.domain']} now`);
    await snapctl.restart([paths.service('acme-renew')]);
  }
}

/**
 * HAProxy's graceful reload, by the hook itself through HAProxy's master CLI: what the haproxy
 * app's reload-command (`run-haproxy reload`) does, without a second Node start and a snapd task
 * after the hook (docs/startup.md, "snap set"). It also lets the hook fail when HAProxy does not
 * take the new file, so snapd rolls the settings back; the previous haproxy.cfg is put back first,
 * so that file, settings and the running HAProxy agree (acme-renew does the same).
 * When the master CLI does not answer (HAProxy stopped, still starting, or just reloaded: 2.6
 * listens again a moment after the new worker forks), snapd's `snapctl restart --reload` is queued
 * as before and runs the reload-command after the hook.
 * Confinement allows it: the socket is in $SNAP_COMMON, and snapd's AppArmor template lets every
 * app and hook of a snap reach the others' unix sockets (`unix peer=(label=snap.@{SNAP_INSTANCE_NAME}.*)`,
 * snapd interfaces/apparmor/template.go).
 */
async function reloadHaproxyNow(paths: SnapPaths, snapctl: Snapctl, servedCfg: string | undefined): Promise<void> {
  const { reloadHaproxy, showProcOrUndefined } = await import('../haproxy/reload.js');
  const before = await showProcOrUndefined(paths.haproxyMasterSocket);
  if (before === undefined) {
    await snapctl.restart([paths.service('haproxy')], { reload: true });
    return;
  }
  try {
    const r = await reloadHaproxy({ masterSocket: paths.haproxyMasterSocket, pidFile: paths.haproxyPidFile, before });
    step(`configure: haproxy reloaded: worker ${r.newWorkers.join(', ')} serving, previous workers finish their requests (${r.elapsedMs} ms)`);
  } catch (err) {
    if (servedCfg !== undefined) writeFileAtomic(paths.haproxyCfg, servedCfg, 0o644);
    throw err;
  }
}

/** acme: true unless a certificate for the domain that is not due for renewal is already served. */
function acmeCertificateNeeded(paths: SnapPaths, s: Settings): boolean {
  let installed: string | undefined;
  try {
    installed = readFileSync(paths.certFile('acme'), 'utf8');
  } catch {
    installed = undefined;
  }
  return decide({ now: Date.now(), domain: s['https.acme.domain'], installed }).action !== 'none';
}

async function ensureCertificate(paths: SnapPaths, s: Settings, mode: 'self-signed' | 'custom'): Promise<boolean> {
  if (mode === 'self-signed') return ensureSelfSigned(paths);
  return installCustomCertificate(paths, s['https.cert'], s['https.key']);
}

/**
 * Writes the candidate beside the live file and runs `haproxy -c` on it; returns the checked
 * file, which phase 4 renames into place (or the caller removes).
 */
async function checkCandidate(paths: SnapPaths, content: string): Promise<string> {
  ensureDir(paths.haproxyDir, 0o755);
  installStartingPage(paths.haproxyErrorPage);
  const tmp = join(dirname(paths.haproxyCfg), `.candidate-${randomBytes(4).toString('hex')}.cfg`);
  writeFileAtomic(tmp, content, 0o644);
  try {
    await checkHaproxyConfigFile(paths.haproxy, tmp, undefined, paths.haproxyCfg);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return tmp;
}
