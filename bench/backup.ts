// Database dump time and size for a synthetic Immich-like database of about 1.26 GB (assets, exif,
// 512-dimension CLIP and face embeddings from generate_series/random()), measured in ONE run for:
//   ours      the compiled `immich-distribution.backup` (pg_dump -Fc -Z0 | zstd -T0 -1, verified
//             while it is written: zstd -t on the same stream, then pg_restore --list), and the
//             bare pipeline without verification; for reference the same pipeline at zstd -3 (the
//             level used before)
//   raw       pg_dump -Fc -Z0 > /dev/null (the floor any pg_dump-based backup pays)
//   anchor    pg_dumpall --clean --if-exists | xz (nsg/immich-distribution's method). Full-size xz
//             would take most of an hour, so pg_dumpall is timed in full (to /dev/null, and its
//             output size measured) and xz (default level, single thread, as the anchor runs it)
//             on an evenly spread sample of that output; the anchor's time is extrapolated as
//             max(pg_dumpall, full size / xz throughput) (the two run as a pipe) and its size as
//             full size × the sample's ratio. Printed as an estimate, with the sample size.
// raw, the pipelines and the command are each run BENCH_REPEAT times (default 5), interleaved, and
// their medians compared, so that a burst of other work on the machine does not decide a ratio.
// BENCH_BEFORE_BACKUP=<an earlier build's bin/backup> times that command too, in the same rounds
// (e.g. a build of the commit before a change to the backup), as the "before" row.
// Plus the media backup: first run against a second run over unchanged files (hard links).
// Run: node build.mjs && node --import tsx bench/backup.ts   (as root; BENCH_ASSETS=N rows, default 250000)
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installed, populateMedia, query, teardown } from '../test/integration/backup-fixtures.js';
import { ZSTD_COMPRESS } from '../hooks-src/backup/database.js';

const ASSETS = Number(process.env.BENCH_ASSETS ?? 250_000);
const MEDIA_FILES = Number(process.env.BENCH_MEDIA_FILES ?? 2000);
const SAMPLE_MB = Number(process.env.BENCH_XZ_SAMPLE_MB ?? 48);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const ZSTD = ZSTD_COMPRESS.join(' ');
const BEFORE = process.env.BENCH_BEFORE_BACKUP;
const PG = '/usr/lib/postgresql/15/bin';
const MB = 1e6;

const GENERATE = `
SET ROLE immich;
CREATE TABLE assets (id uuid PRIMARY KEY, owner_id uuid NOT NULL, device_asset_id text NOT NULL, device_id text NOT NULL,
  type text NOT NULL, original_path text NOT NULL, original_file_name text NOT NULL, checksum bytea NOT NULL, thumbhash bytea,
  file_created_at timestamptz NOT NULL, file_modified_at timestamptz NOT NULL, local_date_time timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), is_favorite boolean NOT NULL DEFAULT false, visibility text NOT NULL DEFAULT 'timeline');
INSERT INTO assets SELECT u, md5('owner' || (i % 3))::uuid, 'IMG_' || i || '.HEIC-' || (i * 7919 % 100000), 'Library Import',
  CASE WHEN i % 12 = 0 THEN 'VIDEO' ELSE 'IMAGE' END,
  '/data/upload/' || md5('owner' || (i % 3))::uuid || '/' || substr(u::text, 1, 2) || '/' || substr(u::text, 3, 2) || '/' || u || '.heic',
  'IMG_' || i || '.HEIC', decode(md5(u::text) || substr(md5(i::text), 1, 8), 'hex'), decode(substr(md5(u::text || 't') || md5(u::text), 1, 50), 'hex'),
  ts, ts, ts, ts, i % 17 = 0, 'timeline'
FROM (SELECT i, gen_random_uuid() AS u, timestamptz '2015-01-01' + (i * interval '17 minutes') AS ts FROM generate_series(1, ${ASSETS}) i) s;
CREATE TABLE asset_exif (asset_id uuid PRIMARY KEY REFERENCES assets(id), make text, model text, lens_model text, f_number real,
  focal_length real, iso int, exposure_time text, latitude double precision, longitude double precision, city text, state text,
  country text, description text, exif_image_width int, exif_image_height int, file_size_in_byte bigint, time_zone text);
INSERT INTO asset_exif SELECT id, 'Apple', 'iPhone ' || (10 + (h % 6)), 'iPhone back camera 4.2mm f/1.6', 1.6, 4.2, 32 + h % 800,
  '1/' || (60 + h % 2000), 40 + (h % 1000) / 100.0, -3 + (h % 700) / 100.0, 'City ' || (h % 500), 'State ' || (h % 40), 'Country ' || (h % 12),
  '', 4032, 3024, 1500000 + h % 3000000, 'Europe/Paris'
FROM (SELECT id, abs(hashtext(id::text)) AS h FROM assets) s;
CREATE TABLE embeddings (asset_id uuid PRIMARY KEY REFERENCES assets(id), embedding vector(512) NOT NULL);
INSERT INTO embeddings SELECT id, (SELECT array_agg(random()::real - 0.5) FROM generate_series(1, 512) WHERE id IS NOT NULL)::vector FROM assets;
CREATE TABLE asset_faces (id uuid PRIMARY KEY, asset_id uuid NOT NULL REFERENCES assets(id), person_id uuid, image_width int, image_height int,
  bounding_box_x1 int, bounding_box_y1 int, bounding_box_x2 int, bounding_box_y2 int, source_type text NOT NULL DEFAULT 'machine-learning');
INSERT INTO asset_faces SELECT gen_random_uuid(), id, md5('person' || (abs(hashtext(id::text)) % 300))::uuid, 4032, 3024, 100, 200, 400, 600, 'machine-learning'
FROM assets WHERE abs(hashtext(id::text)) % 2 = 0;
CREATE TABLE face_embeddings (face_id uuid PRIMARY KEY REFERENCES asset_faces(id), embedding vector(512) NOT NULL);
INSERT INTO face_embeddings SELECT id, (SELECT array_agg(random()::real - 0.5) FROM generate_series(1, 512) WHERE id IS NOT NULL)::vector FROM asset_faces;
RESET ROLE;
`;

function time<T>(fn: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

function sh(cmd: string, env: NodeJS.ProcessEnv): void {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

const fmt = (ms: number) => (ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(2)} s`);

const e = await installed();
const work = join(e.snapd.root, 'bench');
try {
  execFileSync('mkdir', ['-p', work]);
  process.stderr.write(`generating ${ASSETS} assets with exif, CLIP and face embeddings…\n`);
  const t0 = Date.now();
  await query(e, GENERATE);
  await query(e, 'VACUUM ANALYZE');
  const [{ b }] = (await query<{ b: string }>(e, "SELECT pg_database_size('immich') AS b")) as [{ b: string }];
  const dbBytes = Number(b);
  process.stderr.write(`database: ${(dbBytes / MB).toFixed(0)} MB on disk (generated in ${fmt(Date.now() - t0)})\n`);
  const env = { ...process.env, PGHOST: e.paths.pgSocketDir, PGUSER: 'postgres', PGDATABASE: 'immich' };

  // Warm the cache once so no contender pays for the first read.
  sh(`${PG}/pg_dump -Fc -Z0 > /dev/null`, env);
  const oursFile = join(work, 'ours.pgdump.zst');
  const level3File = join(work, 'level3.pgdump.zst');
  const runs = { raw: [] as number[], pipe: [] as number[], level3: [] as number[], cmd: [] as number[], before: [] as number[] };
  let cmdBytes = 0;
  let beforeBytes = 0;
  const command = (bin: string, to: string): [number, number] => {
    // The command makes its backup durable (fsync, then syncfs of the location's filesystem): it
    // must not also pay for the files the pipelines above left unwritten.
    execFileSync('sync');
    const [r, ms] = time(() => spawnSync(bin, ['--json', '--to', to], { env: e.snapd.appEnv('backup'), encoding: 'utf8' }));
    if (r.status !== 0) throw new Error(`${bin}: ${r.stderr}`);
    rmSync(to, { recursive: true });
    return [ms, (JSON.parse(r.stdout) as { manifest: { database: { bytes: number } } }).manifest.database.bytes];
  };
  for (let i = 0; i < REPEAT; i++) {
    runs.raw.push(time(() => sh(`${PG}/pg_dump -Fc -Z0 > /dev/null`, env))[1]);
    runs.pipe.push(time(() => sh(`${PG}/pg_dump -Fc -Z0 | zstd ${ZSTD} -q -c > ${oursFile}`, env))[1]);
    runs.level3.push(time(() => sh(`${PG}/pg_dump -Fc -Z0 | zstd -T0 -3 -q -c > ${level3File}`, env))[1]);
    const [ms, bytes] = command(join(e.snapd.layout.snap, 'bin/backup'), join(work, `cmd-${i}`));
    runs.cmd.push(ms);
    cmdBytes = bytes;
    if (BEFORE) {
      const [bms, bbytes] = command(BEFORE, join(work, `before-${i}`));
      runs.before.push(bms);
      beforeBytes = bbytes;
    }
    process.stderr.write(`round ${i + 1}/${REPEAT}: raw ${fmt(runs.raw.at(-1)!)}, pipeline ${fmt(runs.pipe.at(-1)!)}, level 3 ${fmt(runs.level3.at(-1)!)}, command ${fmt(ms)}${BEFORE ? `, before ${fmt(runs.before.at(-1)!)}` : ''}\n`);
  }
  const rawMs = median(runs.raw);
  const pipeMs = median(runs.pipe);
  const level3Ms = median(runs.level3);
  const cmdMs = median(runs.cmd);
  const oursBytes = statSync(oursFile).size;
  const level3Bytes = statSync(level3File).size;
  rmSync(level3File);
  // For reference: pg_dump's own gzip (the only compressor Postgres 15 offers for -Fc).
  const gzFile = join(work, 'gzip.pgdump');
  const [, gzMs] = time(() => sh(`${PG}/pg_dump -Fc -Z6 > ${gzFile}`, env));
  const gzBytes = statSync(gzFile).size;
  rmSync(gzFile);

  // The anchor: pg_dumpall in full, xz on a sample of its output.
  const plain = join(work, 'dumpall.sql');
  const [, dumpallMs] = time(() => sh(`${PG}/pg_dumpall --clean --if-exists > ${plain}`, env));
  const plainBytes = statSync(plain).size;
  const sample = join(work, 'sample.sql');
  const chunks = 8;
  const chunk = Math.floor((SAMPLE_MB * MB) / chunks);
  const fd = openSync(plain, 'r');
  const parts: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const buf = Buffer.alloc(chunk);
    const n = readSync(fd, buf, 0, chunk, Math.floor(((plainBytes - chunk) * i) / (chunks - 1)));
    parts.push(buf.subarray(0, n));
  }
  closeSync(fd);
  writeFileSync(sample, Buffer.concat(parts));
  const sampleBytes = statSync(sample).size;
  const [, xzMs] = time(() => sh(`xz -c ${sample} > ${sample}.xz`, env));
  const xzRatio = statSync(`${sample}.xz`).size / sampleBytes;
  const anchorMs = Math.max(dumpallMs, (xzMs * plainBytes) / sampleBytes);
  const anchorBytes = plainBytes * xzRatio;
  rmSync(plain);

  // Media: first run against a second run over the same files.
  populateMedia(e.media, MEDIA_FILES, { minKiB: 512, maxKiB: 3584 });
  const mediaBytes = Number(execFileSync('du', ['-sb', e.media]).toString().split('\t')[0]);
  const run = () => {
    const [r, ms] = time(() => spawnSync(join(e.snapd.layout.snap, 'bin/backup'), ['--assets', '--json', '--to', join(work, 'media')], { env: e.snapd.appEnv('backup'), encoding: 'utf8' }));
    if (r.status !== 0) throw new Error(r.stderr);
    return { ms, media: (JSON.parse(r.stdout) as { manifest: { media: { durationMs: number; linked: number; copied: number } } }).manifest.media };
  };
  const first = run();
  const second = run();

  const rows: Array<[string, string, string, string]> = [
    ['method', 'time', 'size', 'vs anchor (time / size)'],
    ['anchor: pg_dumpall | xz (estimate*)', fmt(anchorMs), `${(anchorBytes / MB).toFixed(0)} MB`, '1× / 1.00×'],
    ['pg_dump -Fc -Z6 (gzip, PG15 built-in)', fmt(gzMs), `${(gzBytes / MB).toFixed(0)} MB`, `${(anchorMs / gzMs).toFixed(0)}× faster / ${(gzBytes / anchorBytes).toFixed(2)}×`],
    ['before: pg_dump -Fc -Z0 | zstd -T0 -3', fmt(level3Ms), `${(level3Bytes / MB).toFixed(0)} MB`, `${(anchorMs / level3Ms).toFixed(0)}× faster / ${(level3Bytes / anchorBytes).toFixed(2)}×`],
    [`ours: pg_dump -Fc -Z0 | zstd ${ZSTD}`, fmt(pipeMs), `${(oursBytes / MB).toFixed(0)} MB`, `${(anchorMs / pipeMs).toFixed(0)}× faster / ${(oursBytes / anchorBytes).toFixed(2)}×`],
    ...(BEFORE
      ? [['before: backup command (BENCH_BEFORE_BACKUP)', fmt(median(runs.before)), `${(beforeBytes / MB).toFixed(0)} MB`, `${(anchorMs / median(runs.before)).toFixed(0)}× faster / ${(beforeBytes / anchorBytes).toFixed(2)}×`] as [string, string, string, string]]
      : []),
    ['ours: backup command (verified while written)', fmt(cmdMs), `${(cmdBytes / MB).toFixed(0)} MB`, `${(anchorMs / cmdMs).toFixed(0)}× faster / ${(cmdBytes / anchorBytes).toFixed(2)}×`],
    ['raw limit: pg_dump -Fc -Z0 > /dev/null', fmt(rawMs), '-', `ours = ${(pipeMs / rawMs).toFixed(2)}× raw (command ${(cmdMs / rawMs).toFixed(2)}×, level 3 ${(level3Ms / rawMs).toFixed(2)}×${BEFORE ? `, before ${(median(runs.before) / rawMs).toFixed(2)}×` : ''})`],
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const out = [
    `Database: ${(dbBytes / MB).toFixed(0)} MB on disk (${ASSETS} assets, exif, ${ASSETS} CLIP + ~${ASSETS / 2} face embeddings of 512 dimensions); ${require_cpus()} CPUs`,
    ...rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')),
    `times are medians of ${REPEAT} interleaved runs: raw ${runs.raw.map(fmt).join(', ')}; command ${runs.cmd.map(fmt).join(', ')}${BEFORE ? `; before ${runs.before.map(fmt).join(', ')}` : ''}`,
    `* anchor: pg_dumpall measured in full (${fmt(dumpallMs)}, ${(plainBytes / MB).toFixed(0)} MB of SQL); xz -6 single-threaded measured on a ${(sampleBytes / MB).toFixed(0)} MB sample (8 evenly spaced slices): ${((sampleBytes / MB) / (xzMs / 1000)).toFixed(2)} MB/s, ratio ${xzRatio.toFixed(3)}; scaled to the full ${(plainBytes / MB).toFixed(0)} MB.`,
    `Media (${MEDIA_FILES} files, ${(mediaBytes / MB).toFixed(0)} MB): first run ${fmt(first.ms)} (media phase ${fmt(first.media.durationMs)}, ${first.media.copied} copied); second run ${fmt(second.ms)} (media phase ${fmt(second.media.durationMs)}, ${second.media.linked} hard-linked) = ${((second.ms / first.ms) * 100).toFixed(1)} % of the first (media phase ${((second.media.durationMs / first.media.durationMs) * 100).toFixed(1)} %).`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await teardown(e);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function require_cpus(): number {
  return Number(execFileSync('nproc').toString().trim());
}
