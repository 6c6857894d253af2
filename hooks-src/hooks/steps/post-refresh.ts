import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensionVersion, IMMICH_DATABASE } from '../../postgres/bootstrap.js';
import { type TemporaryServer, startTemporary, withConnection } from '../../postgres/cluster.js';
import { PG_PORT, writePostgresFiles } from '../../postgres/files.js';
import { startGuardian } from '../../postgres/guardian.js';
import { detectMachine } from '../../postgres/machine.js';
import {
  analyzeAll,
  canClone,
  connectableDatabases,
  decideTransfer,
  deleteCluster,
  directoryBytes,
  freeBytes,
  inspectOldCluster,
  prepareWorkDir,
  readControl,
  readMarker,
  removeDeletingLeftovers,
  removeMarker,
  setClusterAside,
  updateExtensions,
  upgradeCluster,
  writeMarker,
} from '../../postgres/upgrade.js';
import { anchorOwner, asAnchorOwner, copyAnchorCluster } from '../../postgres/adopt.js';
import { ANCHOR_KEYS, translateAnchorConfig } from '../../migrations/anchor-config.js';
import { gatherFacts, readLedger, recordInLedger, shippedFacts } from '../../migrations/facts.js';
import type { Ledger } from '../../migrations/ledger.js';
import { type Facts, type Migration, type Shipped, migrationId, plan, planBootstrap } from '../../migrations/plan.js';
import { takeSafetyDump } from '../../migrations/safety-dump.js';
import { asDaemon, pathExists } from '../../snap/as-daemon.js';
import { type SnapEnv, snapEnv } from '../../snap/env.js';
import { UserError } from '../../snap/errors.js';
import { runCommand } from '../../snap/exec.js';
import { step } from '../../snap/log.js';
import { createLayout } from '../../snap/layout.js';
import { type SnapPaths, snapPaths } from '../../snap/paths.js';
import { Snapctl } from '../../snap/snapctl.js';
import { failpointHit } from '../../snap/steps.js';
import { ensureSecret } from '../../secrets/secrets.js';
import { KNOWN_ROOTS } from '../../settings/schema.js';
import { IMMICH_VERSION, STATE_VERSION, type State, writeState } from '../../state/state.js';

/**
 * The post-refresh hook: runs in the NEW revision, services stopped, before they start. It runs the
 * migrations the planner (migrations/plan.ts) derives from the recorded state and the disk, in
 * order, each logged as `post-refresh: <id>` and recorded in the ledger when done. A failure exits
 * non-zero with one line: snapd then reverts the refresh, and whatever this hook changed in
 * $SNAP_COMMON (which snapd does not restore) leaves the previous revision able to run: the old
 * cluster is only ever read, new things are built beside it and renamed into place.
 */

interface Context {
  env: SnapEnv;
  paths: SnapPaths;
  snapctl: Snapctl;
  shipped: Shipped;
  facts: Facts;
  port: number;
  listenTcp: boolean;
  server?: { major: number; s: TemporaryServer };
}

async function settings(snapctl: Snapctl): Promise<{ port: number; listenTcp: boolean; backupLocation?: string }> {
  let doc: Record<string, unknown> = {};
  try {
    doc = await snapctl.getDocument(['internal.postgres-port', 'database.tcp', 'backup.location']);
  } catch {
    /* unset keys: defaults */
  }
  const port = typeof doc['internal.postgres-port'] === 'number' ? doc['internal.postgres-port'] : PG_PORT;
  const listenTcp = typeof doc['database.tcp'] === 'boolean' ? doc['database.tcp'] : true;
  const backupLocation = typeof doc['backup.location'] === 'string' ? doc['backup.location'] : undefined;
  return { port, listenTcp, backupLocation };
}

function render(ctx: Context, major: number): void {
  const vector = ctx.facts.state?.vectorExtension.name ?? ctx.shipped.vector.name;
  writePostgresFiles(ctx.paths, { major, vector, machine: detectMachine(), listenTcp: ctx.listenTcp, port: ctx.port });
}

/** The hook's temporary server on `major` (private socket, no TCP), started once and reused. */
async function server(ctx: Context, major: number): Promise<TemporaryServer> {
  if (ctx.server?.major === major) return ctx.server.s;
  await stopServer(ctx);
  render(ctx, major);
  ctx.server = { major, s: await startTemporary(ctx.paths, major, ctx.port) };
  return ctx.server.s;
}

async function stopServer(ctx: Context): Promise<void> {
  const s = ctx.server;
  ctx.server = undefined;
  await s?.s.stop();
}

/**
 * Test-only fault injection (see snap/steps.ts): `post-refresh:<id>` or `post-refresh:<id>/<phase>`.
 * It kills the hook's whole process group, as snapd does when a hook times out.
 */
function failpoint(name: string): void {
  if (!failpointHit('post-refresh', name)) return;
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    /* not a group leader */
  }
  process.kill(process.pid, 'SIGKILL');
}

/** Every cluster directory a server of this hook (or pg_upgrade) may run on. */
function guardedClusters(ctx: Context): string[] {
  return ctx.shipped.pgMajors.flatMap((major) => [ctx.paths.pgCluster(major), ctx.paths.pgUpgradeStaging(major)]);
}

// ------------------------------------------------------------------------------------------ migrations

/** Runs our install hook's steps (idempotent: on an existing cluster it only converges). */
async function runInstallSteps(ctx: Context): Promise<void> {
  const hook = join(ctx.paths.snap, 'meta/hooks/install');
  const r = await runCommand(hook, [], { cwd: '/', timeoutMs: 8 * 60_000 });
  for (const line of `${r.stderr}`.split('\n').filter(Boolean)) step(`  ${line}`);
  if (r.exitCode !== 0) throw new UserError(`setting up the data for this revision failed: ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.exitCode}`}`);
}

async function adoptAnchor(ctx: Context, major: number, backupLocation: string | undefined): Promise<void> {
  const { paths } = ctx;
  createLayout(paths);
  const target = paths.pgCluster(major);
  const staging = `${target}.adopt`;
  writeFileSync(paths.anchorAdoptMarker, `${new Date().toISOString()}\n`, { mode: 0o600 });
  if (!asDaemon(() => pathExists(target))) {
    // Copy (never move): a revert to the previous snap finds its cluster where it left it.
    const owner = anchorOwner(paths);
    const bytes = directoryBytes(paths.anchorPgData, [], asAnchorOwner(owner));
    const d = decideTransfer({ clone: false, oldBytes: bytes, freeBytes: freeBytes(paths.pgClustersDir), from: major, to: major, where: paths.pgClustersDir });
    if ('refusal' in d) throw new UserError(d.refusal.replace(`upgrade PostgreSQL ${major} to ${major}`, `take over the PostgreSQL ${major} database`));
    step(`post-refresh: copying the database of the previous layout (${(bytes / 1024 ** 2).toFixed(0)} MiB, pg_basebackup)`);
    await copyAnchorCluster(paths, { major, owner, to: staging });
    asDaemon(() => renameSync(staging, target));
  }
  failpoint('adopt-anchor/safety-dump');
  await safetyDump(ctx, { kind: 'safety-dump', fromImmich: 'unknown', toImmich: IMMICH_VERSION, major }, backupLocation);
  await stopServer(ctx);
  failpoint('adopt-anchor/install');
  // The previous layout kept the media in $SNAP_COMMON/upload (absolute paths in the database).
  if (existsSync(paths.anchorUpload) && (await ctx.snapctl.get('media.location').catch(() => undefined)) === undefined) {
    await ctx.snapctl.set({ 'media.location': paths.anchorUpload });
  }
  failpoint('adopt-anchor/settings');
  await takeOverAnchorSettings(ctx);
  await runInstallSteps(ctx);
  rmSync(paths.anchorAdoptMarker, { force: true });
}

/**
 * The anchor's `snap set` keys become ours or go (configure, which runs next, would refuse them).
 * Its database password is kept (install re-hashes it with scram) when it meets our rules.
 */
async function takeOverAnchorSettings(ctx: Context): Promise<void> {
  const { doc } = await ctx.snapctl.getAll([...KNOWN_ROOTS, ...ANCHOR_KEYS]);
  const t = translateAnchorConfig(doc, { snapCommon: ctx.paths.common, fileExists: (p) => existsSync(p) });
  for (const note of t.notes) step(`post-refresh: ${note}`);
  const password = t.set['database-password'];
  if (typeof password === 'string') ensureSecret(ctx.paths, 'database-password', () => password);
  await ctx.snapctl.unset(...t.unset);
  await ctx.snapctl.set(Object.fromEntries(Object.entries(t.set).filter(([k]) => k !== 'database-password')));
}

async function upgradePostgres(ctx: Context, from: number, to: number, id: string): Promise<void> {
  const { paths } = ctx;
  removeDeletingLeftovers(paths);
  prepareWorkDir(paths);
  render(ctx, to); // our pg_hba/pg_ident, used by pg_upgrade's private servers
  const oldDir = paths.pgCluster(from);
  const oldBytes = directoryBytes(oldDir, ['pg_wal']);
  const d = decideTransfer({ clone: canClone(paths.pgClustersDir), oldBytes, freeBytes: freeBytes(paths.pgClustersDir), from, to, where: paths.pgClustersDir });
  if ('refusal' in d) throw new UserError(d.refusal);
  step(`post-refresh: upgrading PostgreSQL ${from} to ${to} (${(oldBytes / 1024 ** 2).toFixed(0)} MiB, ${d.mode} mode)`);
  const info = await inspectOldCluster(paths, from, oldDir);
  failpoint(`${id}/inspected`);
  const r = await upgradeCluster(paths, { from, to, oldDir, mode: d.mode, info, onPhase: (p) => failpoint(`${id}/${p}`) });
  writeMarker(paths, { from, to, mode: r.mode, upgradedAt: new Date().toISOString() });
  step(`post-refresh: pg_upgrade done in ${(r.durationMs / 1000).toFixed(1)} s; PostgreSQL ${from} is kept until ${to} has run`);
}

async function updateAllExtensions(ctx: Context, major: number): Promise<void> {
  const s = await server(ctx, major);
  const dbs = await withConnection(s, 'postgres', connectableDatabases);
  for (const db of dbs) {
    const done = await withConnection(s, db, (c) => updateExtensions(c, db));
    for (const u of done) step(`post-refresh: ${db}: extension ${u.name} ${u.from} -> ${u.to}${u.reindexed.length ? `, reindexed ${u.reindexed.join(', ')}` : ''}`);
  }
}

async function finishUpgrade(ctx: Context, major: number): Promise<void> {
  await updateAllExtensions(ctx, major);
  failpoint(`finish-upgrade-postgres-${major}/analyze`);
  const s = await server(ctx, major);
  await analyzeAll(ctx.paths, major, s);
}

async function safetyDump(ctx: Context, m: Extract<Migration, { kind: 'safety-dump' }>, backupLocation: string | undefined): Promise<void> {
  const s = await server(ctx, m.major);
  const exists = await withConnection(s, 'postgres', async (db) => (await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [IMMICH_DATABASE])).rows.length > 0);
  if (!exists) {
    step(`post-refresh: no ${IMMICH_DATABASE} database yet: no safety dump needed`);
    return;
  }
  const newest = ctx.shipped.pgMajors[0]!;
  const location = backupLocation ?? ctx.paths.defaultBackups;
  await withConnection(s, IMMICH_DATABASE, (db) =>
    takeSafetyDump({
      location,
      tools: { pgDump: ctx.paths.pgBin(newest, 'pg_dump'), pgRestore: ctx.paths.pgBin(newest, 'pg_restore'), zstd: ctx.paths.zstd },
      server: s,
      db,
      env: ctx.env,
      recorded: ctx.facts.state,
      toImmich: m.toImmich,
    }),
  );
}

async function recordState(ctx: Context, major: number): Promise<void> {
  const prev = ctx.facts.state!;
  let vector = prev.vectorExtension;
  if (ctx.server || prev.postgresMajor !== major || vector.version !== ctx.shipped.vector.defaultVersion) {
    const s = await server(ctx, major);
    const v = await withConnection(s, IMMICH_DATABASE, (db) => extensionVersion(db, prev.vectorExtension.name));
    if (v) vector = { name: prev.vectorExtension.name, version: v };
  }
  await stopServer(ctx);
  // The service starts next with this revision's rendered config, which snapd copied from the
  // previous revision: it must name the cluster recorded here (e.g. after a revert to a revision
  // that ran another major, nothing else in this run may have rendered it).
  render(ctx, major);
  // From now on a later pg_control time on the new cluster means the service ran it.
  const marker = readMarker(ctx.paths);
  if (marker && marker.to === major && marker.controlTimeAfterHook === undefined) {
    writeMarker(ctx.paths, { ...marker, controlTimeAfterHook: readControl(ctx.paths.pgCluster(major)).time });
  }
  const next: State = { stateVersion: STATE_VERSION, postgresMajor: major, vectorExtension: vector, immichVersion: IMMICH_VERSION };
  writeState(ctx.paths.stateFile, next);
}

async function runMigration(ctx: Context, m: Migration, id: string, backupLocation: string | undefined): Promise<string | undefined> {
  switch (m.kind) {
    case 'adopt-anchor':
      await adoptAnchor(ctx, m.major, backupLocation);
      return `from ${ctx.paths.anchorPgData}`;
    case 'rebuild-state': {
      if (existsSync(ctx.paths.stateFile)) {
        const aside = `${ctx.paths.stateFile}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        renameSync(ctx.paths.stateFile, aside);
        step(`post-refresh: ${ctx.facts.stateProblem ?? 'the state record was unreadable'}; kept as ${aside}`);
      }
      // The Immich version of this database is unknown: keep a dump before Immich starts on it.
      await safetyDump(ctx, { kind: 'safety-dump', fromImmich: 'unknown', toImmich: IMMICH_VERSION, major: m.major }, backupLocation);
      await stopServer(ctx);
      await runInstallSteps(ctx);
      return ctx.facts.stateProblem;
    }
    case 'set-aside-cluster':
      if (m.reason === 'stale-unserved') {
        deleteCluster(ctx.paths, ctx.paths.pgCluster(m.major));
        removeMarker(ctx.paths);
        return 'deleted: never served, older than the live cluster';
      } else {
        const name = setClusterAside(ctx.paths, m.major);
        removeMarker(ctx.paths);
        step(`post-refresh: PostgreSQL ${m.major} is older than the live cluster (a revert happened after an upgrade); kept as postgres/${name}`);
        return `kept as ${name}`;
      }
    case 'state-version':
      throw new UserError(`internal error: no code for the state-version migration ${m.from} -> ${m.to}`);
    case 'upgrade-postgres':
      await upgradePostgres(ctx, m.from, m.to, id);
      return undefined;
    case 'finish-upgrade':
      await finishUpgrade(ctx, m.major);
      return undefined;
    case 'update-extensions':
      await updateAllExtensions(ctx, m.major);
      return undefined;
    case 'safety-dump':
      await safetyDump(ctx, m, backupLocation);
      return undefined;
    case 'remove-old-cluster': {
      const dir = ctx.paths.pgCluster(m.major);
      if (asDaemon(() => pathExists(dir))) deleteCluster(ctx.paths, dir);
      removeMarker(ctx.paths);
      step(`post-refresh: removed PostgreSQL ${m.major}: ${m.newMajor} has run since the upgrade`);
      return undefined;
    }
    case 'record-state':
      await recordState(ctx, m.major);
      return undefined;
  }
}

async function runAll(ctx: Context, migrations: Migration[], ledger: Ledger, backupLocation: string | undefined): Promise<Ledger> {
  for (const m of migrations) {
    const id = migrationId(m);
    failpoint(id);
    step(`post-refresh: ${id}`);
    const started = Date.now();
    const detail = await runMigration(ctx, m, id, backupLocation);
    ledger = recordInLedger(ctx.paths, ledger, {
      id,
      at: new Date().toISOString(),
      revision: ctx.env.SNAP_REVISION,
      version: ctx.env.SNAP_VERSION,
      durationMs: Date.now() - started,
      ...(detail ? { detail } : {}),
    });
  }
  return ledger;
}

export async function postRefresh(): Promise<number> {
  const env = snapEnv();
  const paths = snapPaths(env);
  const snapctl = new Snapctl();
  const shipped = shippedFacts(paths);
  if (shipped.pgMajors.length === 0) throw new UserError(`no PostgreSQL found under ${paths.pgRoot}; the snap is incomplete`);
  const conf = await settings(snapctl);
  const ctx: Context = { env, paths, snapctl, shipped, facts: gatherFacts(paths), port: conf.port, listenTcp: conf.listenTcp };
  let ledger = readLedger(paths, step);
  startGuardian(paths, guardedClusters(ctx));
  try {
    const boot = planBootstrap(ctx.facts, shipped);
    if (boot && !boot.ok) throw new UserError(boot.refusal);
    if (boot?.ok) {
      ledger = await runAll(ctx, boot.migrations, ledger, conf.backupLocation);
      ctx.facts = gatherFacts(paths);
    }
    const p = plan(ctx.facts, shipped);
    if (!p.ok) throw new UserError(p.refusal);
    if (p.migrations.length === 0) {
      step(`post-refresh: nothing to migrate (Immich ${IMMICH_VERSION}, PostgreSQL ${ctx.facts.state?.postgresMajor})`);
      return 0;
    }
    step(`post-refresh: ${p.migrations.length} migration(s): ${p.migrations.map(migrationId).join(', ')}`);
    ledger = await runAll(ctx, p.migrations, ledger, conf.backupLocation);
  } finally {
    await stopServer(ctx).catch(() => undefined);
  }
  return 0;
}
