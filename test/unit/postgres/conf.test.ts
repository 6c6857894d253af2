import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GiB, MiB, confString, renderPostgresConf, tune } from '../../../hooks-src/postgres/conf.js';

const base = {
  major: 15,
  ramBytes: 4 * GiB,
  cpus: 4,
  socketDir: '/var/snap/immich-distribution/common/run/postgres',
  port: 5432,
  listenTcp: true,
  vectorchord: false,
  dataDir: '/var/snap/immich-distribution/common/postgres/15',
  hbaFile: '/var/snap/immich-distribution/x1/etc/postgres/pg_hba.conf',
  identFile: '/var/snap/immich-distribution/x1/etc/postgres/pg_ident.conf',
};

function settings(conf: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of conf.split('\n')) {
    const m = /^([a-z_]+) = (.*)$/.exec(line);
    if (m) {
      assert.not.ok(m[1]! in out, `${m[1]} set twice`);
      out[m[1]!] = m[2]!;
    }
  }
  return out;
}

test('1 GiB and 16 GiB machines get different, sane memory settings', () => {
  const small = settings(renderPostgresConf({ ...base, ramBytes: 1 * GiB, cpus: 1 }));
  const big = settings(renderPostgresConf({ ...base, ramBytes: 16 * GiB, cpus: 8 }));
  assert.is(small.shared_buffers, '256MB');
  assert.is(big.shared_buffers, '4096MB');
  assert.is(small.effective_cache_size, '512MB');
  assert.is(big.effective_cache_size, '8192MB');
  assert.is(small.work_mem, '4MB');
  assert.is(big.work_mem, '32MB');
  assert.is(small.maintenance_work_mem, '64MB');
  assert.is(big.maintenance_work_mem, '1024MB');
  assert.is(small.max_parallel_workers_per_gather, '0');
  assert.is(big.max_parallel_workers_per_gather, '4');
  // Immich's fixed recommendations hold on both.
  for (const s of [small, big]) {
    assert.is(s.max_wal_size, "'5GB'");
    assert.is(s.wal_compression, 'on');
    assert.is(s.password_encryption, "'scram-sha-256'");
  }
});

test('4 GiB gives Immich recommended work_mem of 16MB', () => {
  assert.is(tune(4 * GiB, 4).workMemMiB, 16);
});

test('clamps hold at the extremes', () => {
  const tiny = tune(256 * MiB, 1);
  assert.is(tiny.sharedBuffersMiB, 128);
  assert.is(tiny.maintenanceWorkMemMiB, 64);
  assert.is(tiny.maxParallelMaintenanceWorkers, 1);
  assert.is(tiny.maxWorkerProcesses, 8);
  const huge = tune(512 * GiB, 128);
  assert.is(huge.sharedBuffersMiB, 4096);
  assert.is(huge.effectiveCacheSizeMiB, 16384);
  assert.is(huge.workMemMiB, 32);
  assert.is(huge.maxParallelWorkersPerGather, 4);
  assert.is(huge.maxParallelWorkers, 128);
  assert.throws(() => tune(0, 1));
  assert.throws(() => tune(GiB, 0));
});

test('vchord is preloaded only when shipped', () => {
  assert.is(settings(renderPostgresConf(base)).shared_preload_libraries, "''");
  assert.is(settings(renderPostgresConf({ ...base, vectorchord: true })).shared_preload_libraries, "'vchord.so'");
});

test('TCP on loopback or off; socket directory and files are absolute and quoted', () => {
  const on = settings(renderPostgresConf(base));
  assert.is(on.listen_addresses, "'127.0.0.1'");
  assert.is(on.unix_socket_directories, `'${base.socketDir}'`);
  assert.is(on.hba_file, `'${base.hbaFile}'`);
  assert.is(settings(renderPostgresConf({ ...base, listenTcp: false })).listen_addresses, "''");
  assert.throws(() => renderPostgresConf({ ...base, socketDir: 'relative' }), /absolute/);
});

test('a path cannot inject a setting', () => {
  assert.throws(() => renderPostgresConf({ ...base, socketDir: "/tmp/x'\nlisten_addresses = '*" }), /control/);
  assert.is(confString("/a'b\\c"), "'/a''b\\\\c'");
  // A quote inside a path stays inside the value.
  const conf = renderPostgresConf({ ...base, socketDir: "/tmp/it's" });
  assert.is(settings(conf).unix_socket_directories, "'/tmp/it''s'");
  assert.is(conf.split('\n').filter((l) => l.startsWith('listen_addresses')).length, 1);
});

test('rendering is deterministic', () => {
  assert.is(renderPostgresConf(base), renderPostgresConf({ ...base }));
});

test('rejects unsupported majors and bad ports', () => {
  assert.throws(() => renderPostgresConf({ ...base, major: 13 }));
  assert.throws(() => renderPostgresConf({ ...base, port: 0 }));
  assert.throws(() => renderPostgresConf({ ...base, port: 70000 }));
});

test.run();
