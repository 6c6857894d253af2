import { existsSync } from 'node:fs';
import { execService } from '../../hooks-src/snap/exec-service.js';
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
 * Without arguments: checks the rendered config, then becomes HAProxy in master-worker mode in the
 * foreground (`-W -db`), with its master CLI on a root-only socket. Stopping is HAProxy's own:
 * snapd's SIGUSR1 (`stop-mode: sigusr1-all`) soft-stops master and workers (listeners close,
 * requests in flight may finish) until systemd's stop-timeout; SIGHUP/SIGUSR2 reload.
 *
 * `run-haproxy reload`: graceful reload of the running master (never a restart), exits 0 once a
 * new worker serves, 1 with one line otherwise.
 */
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
  execService({ file: paths.haproxy, args: ['-W', '-db', '-f', paths.haproxyCfg, '-S', `${paths.haproxyMasterSocket},mode,600`], env: process.env });
});
