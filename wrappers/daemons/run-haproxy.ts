import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runMain, wantsHelp } from '../../hooks-src/snap/main.js';
import { snapEnv } from '../../hooks-src/snap/env.js';
import { UserError } from '../../hooks-src/snap/errors.js';
import { step } from '../../hooks-src/snap/log.js';
import { snapPaths } from '../../hooks-src/snap/paths.js';
import { ensureRuntimeDirs } from '../../hooks-src/snap/runtime-dirs.js';
import { checkHaproxyConfigFile, installStartingPage } from '../../hooks-src/haproxy/check.js';
import { reloadHaproxy } from '../../hooks-src/haproxy/reload.js';

/**
 * The haproxy daemon (snapcraft.yaml: `command: bin/run-haproxy`, `reload-command:
 * bin/run-haproxy reload`).
 *
 * Without arguments: checks the rendered config and runs HAProxy in master-worker mode in the
 * foreground (`-W -db`), with its master CLI on a root-only socket, and exits with its status.
 *
 * Stopping (SIGTERM/SIGINT from snapd): the master is asked to soft-stop (SIGUSR1: listeners close,
 * requests in flight may finish) and, if it is still there after STOP_GRACE_MS, to stop now
 * (SIGTERM). A snap stop therefore takes at most ~5 s: when the snap stops, Immich stops too, so
 * waiting longer for transfers would only delay a refresh. SIGHUP reloads, like `reload`.
 *
 * `run-haproxy reload`: graceful reload of the running master (never a restart), exits 0 once a
 * new worker serves, 1 with one line otherwise.
 */
const STOP_GRACE_MS = 5000;

runMain('run-haproxy', async () => {
  if (wantsHelp()) {
    process.stdout.write(
      'usage: run-haproxy          run HAProxy in the foreground (daemon command, run by snapd)\n' +
        '       run-haproxy reload   reload its configuration gracefully (no connection dropped)\n',
    );
    return 0;
  }
  const paths = snapPaths(snapEnv());
  const args = process.argv.slice(2);
  if (args.length === 1 && args[0] === 'reload') {
    const r = await reloadHaproxy({ masterSocket: paths.haproxyMasterSocket, pidFile: paths.haproxyPidFile });
    step(`haproxy reloaded: worker ${r.newWorkers.join(', ')} serving, previous workers finish their requests (${r.elapsedMs} ms)`);
    return 0;
  }
  if (args.length > 0) throw new UserError(`unexpected argument ${JSON.stringify(args[0])}; usage: run-haproxy [reload]`);

  if (!existsSync(paths.haproxyCfg)) {
    throw new UserError(`${paths.haproxyCfg} is missing: the configure hook renders it; run \`sudo snap set immich-distribution http.port=80\` or reinstall`);
  }
  ensureRuntimeDirs(paths);
  // The 503 page is static content of this revision; make sure the file the config names exists.
  installStartingPage(paths.haproxyErrorPage);
  await checkHaproxyConfigFile(paths.haproxy, paths.haproxyCfg);
  // The pid file is named by the config (`pidfile`, in the run dir); giving -p too makes HAProxy complain.
  return runForeground(paths.haproxy, [
    '-W',
    '-db',
    '-f',
    paths.haproxyCfg,
    '-S',
    `${paths.haproxyMasterSocket},mode,600`,
  ]);
});

function runForeground(haproxy: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(haproxy, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signal = (sig: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      signal('SIGUSR1');
      killTimer = setTimeout(() => signal('SIGTERM'), STOP_GRACE_MS);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGHUP', () => signal('SIGUSR2'));
    child.on('error', (err) => reject(new UserError(`cannot start ${haproxy}: ${err.message}`)));
    child.on('exit', (code, sig) => {
      if (killTimer) clearTimeout(killTimer);
      if (code !== null) resolve(code);
      else if (stopping) resolve(0);
      else reject(new UserError(`haproxy was killed by ${sig}`));
    });
  });
}
