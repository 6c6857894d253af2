import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type AcmeSettings, type Decision, combinedPem, decide, legoArgs, legoCertificateFiles, legoEnv, legoFailureLine, parseAcmeSettings } from '../../../hooks-src/acme/acme.js';
import { tryLock } from '../../../hooks-src/snap/lock.js';
import { renderHaproxy } from '../../../hooks-src/configure/render.js';
import { installHaproxyConfig, installStartingPage } from '../../../hooks-src/haproxy/check.js';
import { reloadHaproxy, showProcOrUndefined } from '../../../hooks-src/haproxy/reload.js';
import { parseRecord } from '../../../hooks-src/settings/plan.js';
import type { Settings } from '../../../hooks-src/settings/schema.js';
import { snapEnv } from '../../../hooks-src/snap/env.js';
import { UserError } from '../../../hooks-src/snap/errors.js';
import { ensureDir, writeFileAtomic } from '../../../hooks-src/snap/fs.js';
import { step } from '../../../hooks-src/snap/log.js';
import { type SnapPaths, snapPaths } from '../../../hooks-src/snap/paths.js';

const LEGO_TIMEOUT_MS = 5 * 60_000;

/** The work of `bin/acme-renew` past --help; what the daemon is: ../acme-renew.ts. */
export async function acmeRenew(argv: string[]): Promise<number | void> {
  const unknown = argv.filter((a) => a !== '--force');
  if (unknown.length > 0) throw new UserError(`unexpected argument ${JSON.stringify(unknown[0])}; usage: acme-renew [--force]`);
  const force = argv.includes('--force');

  const paths = snapPaths(snapEnv());
  const settings = readApplied(paths);
  if (settings === undefined) {
    step('acme-renew: no applied settings yet (the configure hook has not run); nothing to do');
    return 0;
  }
  if (settings['https.mode'] !== 'acme') {
    step(`acme-renew: https.mode is ${settings['https.mode']}, not acme; nothing to do`);
    return 0;
  }
  const acme = readAcmeSettings(paths, settings);

  ensureDir(paths.runDir, 0o755);
  const release = tryLock(join(paths.runDir, 'acme-renew.lock'));
  if (!release) {
    step('acme-renew: another acme-renew is running; leaving it to that one');
    return 0;
  }
  try {
    return await renew(paths, settings, acme, force);
  } finally {
    release();
  }
}

async function renew(paths: SnapPaths, settings: Settings, acme: AcmeSettings, force: boolean): Promise<number> {
  const target = paths.certFile('acme');
  const lego = legoCertificateFiles(paths.acmeDir, acme.domain);
  const installed = readIfExists(target);
  const decision: Decision = decide({ now: Date.now(), domain: acme.domain, installed, held: readIfExists(lego.cert), force });
  step(`acme-renew: ${decision.why}`);

  if (decision.action === 'obtain') {
    ensureDir(paths.certsDir, 0o700);
    ensureDir(paths.acmeDir, 0o700);
    await runLego(paths.lego, legoArgs(acme, paths.acmeDir, decision.lego), legoEnv(acme), acme);
  }

  let pem: string | undefined;
  if (decision.action !== 'none') {
    const cert = readIfExists(lego.cert);
    const key = readIfExists(lego.key);
    if (cert === undefined || key === undefined) throw new UserError(`lego finished but left no certificate for ${acme.domain} in ${paths.acmeDir}/certificates`);
    try {
      pem = combinedPem(cert, key, acme.domain, Date.now());
    } catch (err) {
      throw new UserError(`${(err as Error).message}; the previous certificate stays in use`);
    }
  }

  // Install the certificate and the config that serves it together, or neither.
  const previousCfg = readIfExists(paths.haproxyCfg);
  if (pem !== undefined) writeFileAtomic(target, pem, 0o600);
  let cfgChanged: boolean;
  try {
    installStartingPage(paths.haproxyErrorPage);
    cfgChanged = (await installHaproxyConfig({ haproxy: paths.haproxy, target: paths.haproxyCfg, content: renderHaproxy(paths, settings) })).changed;
  } catch (err) {
    if (pem !== undefined) restore(target, installed, 0o600);
    throw err;
  }
  if (pem === undefined && !cfgChanged) return 0;

  const before = await showProcOrUndefined(paths.haproxyMasterSocket);
  const running = before !== undefined || existsSync(paths.haproxyPidFile);
  if (!running) {
    step('acme-renew: HAProxy is not running; it serves the certificate when it starts');
    return 0;
  }
  try {
    const r = await reloadHaproxy({ masterSocket: paths.haproxyMasterSocket, pidFile: paths.haproxyPidFile, before });
    step(`acme-renew: ${pem !== undefined ? `certificate for ${acme.domain} installed` : 'haproxy.cfg brought up to date'}; HAProxy reloaded (master ${r.masterPid}, ${r.elapsedMs} ms)`);
  } catch (err) {
    // HAProxy keeps serving what it had; put the files back so that they match it.
    if (pem !== undefined) restore(target, installed, 0o600);
    if (previousCfg !== undefined) writeFileAtomic(paths.haproxyCfg, previousCfg, 0o644);
    throw err;
  }
  return 0;
}

function readApplied(paths: SnapPaths): Settings | undefined {
  const text = readIfExists(paths.appliedConfig);
  if (text === undefined) return undefined;
  const settings = parseRecord(text, { snapCommon: paths.common });
  if (settings === undefined) throw new UserError(`${paths.appliedConfig} does not hold valid settings; run \`sudo snap set immich-distribution https.mode=acme\` again`);
  return settings;
}

function readAcmeSettings(paths: SnapPaths, settings: Settings): AcmeSettings {
  const text = readIfExists(paths.acmeSettings);
  if (text === undefined) throw new UserError(`${paths.acmeSettings} is missing; run \`sudo snap set immich-distribution https.mode=acme\` again`);
  let acme: AcmeSettings;
  try {
    acme = parseAcmeSettings(text);
  } catch (err) {
    throw new UserError(`${paths.acmeSettings} ${(err as Error).message}; run \`sudo snap set immich-distribution https.mode=acme\` again`);
  }
  if (acme.domain !== settings['https.acme.domain']) {
    throw new UserError(`${paths.acmeSettings} is for ${acme.domain} but https.acme.domain is ${settings['https.acme.domain']}; run \`sudo snap set immich-distribution https.mode=acme\` again`);
  }
  return acme;
}

/** Runs lego with a time limit; SIGTERM to us (snap stop, refresh) stops it too. */
function runLego(lego: string, args: string[], env: Record<string, string>, acme: AcmeSettings): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(lego, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    const keep = (c: Buffer) => {
      // The tail is what matters; cap what we keep.
      out.push(c);
      size += c.length;
      while (size > 256 * 1024 && out.length > 1) size -= out.shift()!.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const stop = () => child.kill('SIGTERM');
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const timer = setTimeout(() => {
      keep(Buffer.from(`\nerror: lego did not finish within ${LEGO_TIMEOUT_MS / 1000} s\n`));
      child.kill('SIGKILL');
    }, LEGO_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new UserError(`cannot run ${lego}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      if (code === 0) return resolve();
      const why = signal && signal !== 'SIGKILL' ? `lego was stopped (${signal})` : legoFailureLine(Buffer.concat(out).toString('utf8'));
      reject(new UserError(`lego could not get a certificate for ${acme.domain} from ${acme.server}: ${why}; the previous certificate stays in use`));
    });
  });
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function restore(path: string, content: string | undefined, mode: number): void {
  if (content === undefined) rmSync(path, { force: true });
  else writeFileAtomic(path, content, mode);
}
