// The README's main command, `npm run sandbox`: it installs the snap into the harness, keeps its
// services running and answers the `snap`-like client and the wrappers it prints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../harness/fake-snap.js';

const bin = join(repoRoot, 'build/sandbox/bin');

function run(cmd: string, args: string[]) {
  const r = spawnSync(join(bin, cmd), args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('sandbox: installs, prints how to talk to it, answers snap get/set/services and the wrappers, simulates a refresh', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/harness/sandbox.ts')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const end = Date.now() + 120_000;
    while (!out.includes('Ctrl-C stops every service') && Date.now() < end) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(out, 'immich-distribution is installed in the sandbox', out);
    assert.match(out, `${'build/sandbox/bin'}/snap get immich-distribution database-password`);

    const pw = run('snap', ['get', 'immich-distribution', 'database-password']);
    assert.is(pw.code, 0, pw.stderr);
    assert.match(pw.stdout, /^[A-Za-z0-9_-]{43}\n$/);

    const bad = run('snap', ['set', 'immich-distribution', 'http.port=0']);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, 'http.port: "0" is not allowed');

    const ok = run('snap', ['set', 'immich-distribution', 'http.port=18090']);
    assert.is(ok.code, 0, ok.stderr);
    assert.is(run('snap', ['get', 'immich-distribution', 'http.port']).stdout, '18090\n');
    const ping = await fetch('http://127.0.0.1:18090/api/server/ping', { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    assert.ok(ping, 'HAProxy answers on the new port');

    const services = run('snap', ['services']);
    assert.match(services.stdout, /immich-distribution\.postgres\s+enabled\s+active/);
    assert.match(services.stdout, /immich-distribution\.haproxy\s+enabled\s+active/);

    // SPEC §3 / issue 5: the sandbox simulates a refresh to a new revision (hooks, data copy, restart).
    const refreshed = run('snap', ['refresh', 'immich-distribution']);
    assert.is(refreshed.code, 0, refreshed.stderr);
    assert.match(refreshed.stdout, /refreshed \(revision x2\)/);
    assert.is(run('snap', ['get', 'immich-distribution', 'http.port']).stdout, '18090\n');
    let back: Response | undefined;
    for (let i = 0; i < 50 && !back; i++) {
      back = await fetch('http://127.0.0.1:18090/api/server/ping', { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (!back) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(back, 'HAProxy answers on the same port after the refresh');
    assert.match(run('snap', ['services']).stdout, /immich-distribution\.postgres\s+enabled\s+active/);
  } finally {
    child.kill('SIGINT');
    const code = await exited;
    assert.is(code, 0, `sandbox exit: ${out.slice(-2000)}`);
  }
});

test.run();
