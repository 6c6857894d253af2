import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveCluster } from '../../../hooks-src/migrations/plan.js';
import { clusterFact } from '../../../hooks-src/postgres/upgrade.js';

/** A cluster directory with PG_VERSION and a pg_control head (state "shut down", time `t` seconds). */
function fakeCluster(root: string, major: number, t: number, mtime: number): string {
  const dir = join(root, String(major));
  mkdirSync(join(dir, 'global'), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'PG_VERSION'), `${major}\n`, { mode: 0o644 });
  const head = Buffer.alloc(32);
  head.writeUInt32LE(1300, 8);
  head.writeInt32LE(1, 16); // DB_SHUTDOWNED
  head.writeBigInt64LE(BigInt(t), 24);
  const file = join(dir, 'global', 'pg_control');
  writeFileSync(file, head, { mode: 0o644 });
  utimesSync(file, mtime, mtime);
  return dir;
}

test('the live cluster is told apart within one second: pg_control written 0.4 s later wins, whatever its header time says', () => {
  const root = mkdtempSync(join(tmpdir(), 'control-'));
  chmodSync(root, 0o755);
  try {
    // A revert stopped 18, started and stopped 15 within the same second (header times equal);
    // the state record still says 18.
    const s18 = fakeCluster(root, 18, 1_795_000_000, 1_795_000_000.2);
    const s15 = fakeCluster(root, 15, 1_795_000_000, 1_795_000_000.6);
    const f18 = clusterFact(s18)!;
    const f15 = clusterFact(s15)!;
    assert.ok(f15.controlTime - f18.controlTime > 300 && f15.controlTime - f18.controlTime < 500, `${f15.controlTime} ${f18.controlTime}`);
    assert.is(liveCluster([f18, f15], 18)!.major, 15);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
