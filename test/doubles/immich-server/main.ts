// TEST DOUBLE of the Immich v3.2.0 server entry `node dist/main.js`: server/src/main.ts (commit
// 0419539c08343c8ca720969666fb7fdd8bb79189). Mirrored because the snap depends on it:
//  - argv: `immich-admin` runs the admin CLI; `immich`/`microservices` are deprecated (exit 1);
//    anything else is an unknown command (exit 1);
//  - the supervisor validates the environment (getEnv throws inside an un-awaited bootstrap: an
//    unhandled rejection, exit 1), prints `Starting api worker` and FORKS dist/workers/api.js as
//    its own process; when the worker exits, the supervisor exits with its code;
//  - it installs NO signal handler: SIGTERM ends the supervisor at once and the forked api worker
//    lives on unless it gets the signal itself (why snapcraft.yaml gives immich-server
//    stop-mode: sigterm-all).
// Simplified: no maintenance-mode check before forking, no microservices worker thread (its work
// runs in the api double), no restart on ExitCode.AppRestart.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { runAdminCli } from './admin-cli.js';
import { parseImmichEnv } from './env.js';

function supervise(): void {
  process.title = 'immich';
  const parsed = parseImmichEnv(process.env);
  if (!parsed.ok) {
    // Immich: the Error thrown by getEnv() surfaces as an unhandled rejection.
    void Promise.reject(new Error(parsed.message));
    return;
  }
  const dir = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (const name of parsed.config.workers) {
    console.log(`Starting ${name} worker`);
    if (name !== 'api') continue; // microservices: folded into the api double
    const worker = fork(join(dir, 'workers', 'api.js'), [], { execArgv: process.execArgv });
    worker.on('error', (error) => console.error(`${name} worker error: ${error}, stack: ${error.stack}`));
    worker.on('exit', (code) => {
      if (code !== 0) console.error(`${name} worker exited with code ${code}`);
      process.exit(code ?? 1);
    });
  }
}

function main(): void {
  const command = process.argv[2];
  if (command === 'immich-admin') {
    runAdminCli(process.argv.slice(3)).then(
      (code) => process.exit(code),
      (error: unknown) => {
        console.error(String(error));
        process.exit(1);
      },
    );
    return;
  }
  if (command === 'immich' || command === 'microservices') {
    console.error(`Using "start.sh ${command}" has been deprecated. See https://github.com/immich-app/immich/releases/tag/v1.118.0 for more information.`);
    process.exit(1);
  }
  if (command) {
    console.error(`Unknown command: "${command}"`);
    process.exit(1);
  }
  supervise();
}

main();
