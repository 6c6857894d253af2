import { existsSync } from 'node:fs';
import { execService } from '../../../hooks-src/snap/exec-service.js';
import { snapEnv } from '../../../hooks-src/snap/env.js';
import { UserError } from '../../../hooks-src/snap/errors.js';
import { step } from '../../../hooks-src/snap/log.js';
import { snapPaths } from '../../../hooks-src/snap/paths.js';
import { ensureRuntimeDirs } from '../../../hooks-src/snap/runtime-dirs.js';
import { checkHaproxyConfigFile, installStartingPage } from '../../../hooks-src/haproxy/check.js';
import { reloadHaproxy } from '../../../hooks-src/haproxy/reload.js';

/** The work of `bin/run-haproxy` past --help; what the daemon is: ../run-haproxy.ts. */
export async function runHaproxy(): Promise<number | void> {
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
}
