// snap/snapcraft.yaml (+ snap/snapshots.yaml, snap/versions.json) against the snapcraft JSON schema,
// the build's output (entries.mjs, build/snap/) and the rules snapcraft and snapd enforce at build
// and install time that the schema does not carry (reference snapd-and-nextcloud.md §C2-§C4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../harness/fake-snap.js';
import { snapPaths } from '../../../hooks-src/snap/paths.js';

interface Executable {
  kind: 'hook' | 'command' | 'daemon';
  name: string;
  source: string;
  targets: string[];
}
interface Entries {
  hooks: string[];
  commands: string[];
  daemons: string[];
  executables: Executable[];
}
type Dict = Record<string, unknown>;
interface App extends Dict {
  command: string;
  daemon?: string;
  'stop-command'?: string;
  'reload-command'?: string;
  'post-stop-command'?: string;
  'stop-mode'?: string;
  'stop-timeout'?: string;
  'restart-delay'?: string;
  after?: string[];
  before?: string[];
  timer?: string;
  plugs?: string[];
}
interface Part extends Dict {
  'stage-packages'?: string[];
}

// entries.mjs is plain JS without type declarations; a computed specifier keeps tsc from looking
// for them (as test/unit/build/standalone.test.ts does). Loaded in a hook rather than with a
// top-level await so the file also runs under `uvu -r tsx/cjs`.
let entries: Entries;
test.before(async () => {
  entries = (await import(pathToFileURL(join(repoRoot, 'entries.mjs')).href)) as Entries;
});
const buildSnapDir = join(repoRoot, 'build', 'snap');
// snapcraft's JSON schema (GPL-3.0, canonical/snapcraft `schema/snapcraft.json`) is not copied into
// this project: it is read where it already is — SNAPCRAFT_SCHEMA, the team's ../shared/reference,
// or an installed snapcraft. A fresh clone without any of them SKIPS the two schema tests and says
// so (the rest of this file still checks the recipe).
const schemaCandidates = [
  process.env['SNAPCRAFT_SCHEMA'] ?? '',
  join(repoRoot, '..', 'shared', 'reference', 'snapcraft.schema.json'),
  '/snap/snapcraft/current/schema/snapcraft.json',
  '/snap/snapcraft/current/share/snapcraft/schema/snapcraft.json',
].filter((p) => p !== '');
const schemaPath = schemaCandidates.find((p) => existsSync(p));

const yamlText = readFileSync(join(repoRoot, 'snap', 'snapcraft.yaml'), 'utf8');
const project = parse(yamlText) as Dict & {
  name: string;
  version?: string;
  summary: string;
  'adopt-info'?: string;
  apps: Record<string, App>;
  hooks: Record<string, { plugs?: string[] } | null>;
  parts: Record<string, Part>;
  layout?: Record<string, Record<string, string>>;
  'system-usernames'?: Record<string, unknown>;
};
const versions = JSON.parse(readFileSync(join(repoRoot, 'snap', 'versions.json'), 'utf8')) as {
  snap: { version: string };
  immich: { version: string; tag: string };
  postgresql: { major: number; upgradeFrom: number[] };
  jellyfinFfmpeg: { package: string; version: string };
} & Dict;
const snapshots = parse(readFileSync(join(repoRoot, 'snap', 'snapshots.yaml'), 'utf8')) as { exclude?: unknown };

// Paths as snapd writes them in snap.yaml and snapshots.yaml: the variables left unexpanded.
const symbolic = snapPaths({
  SNAP: '$SNAP',
  SNAP_DATA: '$SNAP_DATA',
  SNAP_COMMON: '$SNAP_COMMON',
  SNAP_NAME: 'immich-distribution',
  SNAP_INSTANCE_NAME: 'immich-distribution',
  SNAP_REVISION: 'x1',
  SNAP_VERSION: versions.snap.version,
});

const apps = Object.entries(project.apps);
const services = apps.filter(([, a]) => a.daemon !== undefined);

/** The first word of a snap.yaml command (what snapd execs, relative to $SNAP). */
function firstWord(command: string): string {
  return command.trim().split(/\s+/)[0]!.replace(/^\$SNAP\//, '');
}

/** systemd-style durations as snapd accepts them (no `h`), in seconds. */
const durationRe = /^[0-9]+(ns|us|ms|s|m)*$/;
function seconds(d: string): number {
  const unit = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60 } as const;
  let total = 0;
  for (const [, n, u] of d.matchAll(/([0-9]+)(ns|us|ms|s|m)?/g)) total += Number(n) * unit[(u ?? 's') as keyof typeof unit];
  return total;
}

// ---------------------------------------------------------------------------------------------
// (a) JSON schema

let validators: { whole: ValidateFunction; core24: ValidateFunction } | undefined;
function schema(): { whole: ValidateFunction; core24: ValidateFunction } {
  if (validators) return validators;
  if (schemaPath === undefined) throw new Error('no snapcraft schema found (the tests using it are skipped)');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(JSON.parse(readFileSync(schemaPath, 'utf8')) as object, 'snapcraft');
  validators = { whole: ajv.getSchema('snapcraft')!, core24: ajv.getSchema('snapcraft#/$defs/Core24Project')! };
  return validators;
}

/**
 * Validates like snapcraft's CI (ajv draft 2020, strict off, the whole schema). The top-level
 * oneOf reports every non-matching branch, so on failure the errors shown are those of the
 * core24 branch this project is meant to match: one readable line per problem.
 */
function validateProject(doc: unknown): { ok: boolean; report: string } {
  const { whole, core24 } = schema();
  if (whole(doc)) return { ok: true, report: '' };
  core24(doc);
  const all: ErrorObject[] = core24.errors ?? whole.errors ?? [];
  // Nullable keys are `anyOf: [<type>, null]`: drop the "must be null" / "must match anyOf" echoes.
  const useful = all.filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && e.params.type === 'null'));
  const errors = useful.length > 0 ? useful : all;
  const lines = errors.map((e) => {
    const where = e.instancePath || '(top level)';
    const extra = 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : '';
    const allowed = 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : '';
    return `  ${where}: ${e.message ?? 'invalid'}${extra}${allowed}`;
  });
  return { ok: false, report: `snapcraft.yaml does not match the snapcraft schema:\n${[...new Set(lines)].join('\n')}` };
}

/** The schema tests run only where a schema exists; otherwise each is reported as skipped. */
const schemaTest = schemaPath === undefined ? test.skip : test;
if (schemaPath === undefined) {
  process.stdout.write(
    `SKIPPED: snapcraft.yaml was NOT checked against snapcraft's JSON schema: none found at ${schemaCandidates.join(', ')} (set SNAPCRAFT_SCHEMA to a copy of canonical/snapcraft's schema/snapcraft.json)\n`,
  );
}

schemaTest('snapcraft.yaml validates against the snapcraft JSON schema', () => {
  const { ok, report } = validateProject(project);
  assert.ok(ok, report);
});

schemaTest('the schema check rejects a broken copy, naming the bad keys', () => {
  const broken = structuredClone(project) as Dict & { apps: Record<string, Dict> };
  broken.confinement = 'sandboxed';
  broken.apps['postgres']!['stop-mode'] = 'sigquit';
  broken.apps['postgres']!['restart-when'] = 'always';
  const { ok, report } = validateProject(broken);
  assert.not.ok(ok, 'a broken snapcraft.yaml passed validation');
  assert.match(report, '/confinement');
  assert.match(report, '/apps/postgres/stop-mode');
  assert.match(report, "'restart-when'");
});

// ---------------------------------------------------------------------------------------------
// (b) commands and hooks exist in the build

/** Paths (relative to $SNAP) the build produces, built first if build/snap is missing or stale. */
async function builtTargets(): Promise<Set<string>> {
  const targets = entries.executables.flatMap((e) => e.targets);
  if (targets.some((t) => !existsSync(join(buildSnapDir, t)))) {
    const { buildAll } = (await import(pathToFileURL(join(repoRoot, 'build.mjs')).href)) as {
      buildAll: (o?: { quiet?: boolean }) => Promise<void>;
    };
    await buildAll({ quiet: true });
  }
  return new Set(targets);
}

test('every app command, stop-command and reload-command is an executable the build produces', async () => {
  const targets = await builtTargets();
  for (const [name, app] of apps) {
    for (const key of ['command', 'stop-command', 'reload-command', 'post-stop-command'] as const) {
      const cmd = app[key];
      if (cmd === undefined) continue;
      const file = firstWord(cmd);
      assert.ok(targets.has(file), `apps.${name}.${key}: ${file} is not produced by build.mjs (entries.mjs targets)`);
      const built = join(buildSnapDir, file);
      assert.ok(existsSync(built), `apps.${name}.${key}: ${built} is missing after the build`);
      accessSync(built, constants.X_OK);
    }
  }
});

test('hooks: snapcraft.yaml declares exactly the hooks entries.mjs builds', async () => {
  await builtTargets();
  assert.equal(Object.keys(project.hooks).sort(), [...entries.hooks].sort());
  for (const hook of entries.hooks) {
    // snapcraft copies the project's snap/hooks/<hook> to meta/hooks/<hook> (reference §C4).
    const exe = entries.executables.find((e) => e.kind === 'hook' && e.name === hook);
    assert.ok(exe?.targets.includes(`meta/hooks/${hook}`), `${hook} is not built into meta/hooks/`);
    accessSync(join(buildSnapDir, 'meta/hooks', hook), constants.X_OK);
    accessSync(join(repoRoot, 'snap/hooks', hook), constants.X_OK);
  }
});

test('the lifecycle part installs the build output where snapcraft expects hooks and commands', () => {
  const lifecycle = project.parts['lifecycle'] as Part & { 'override-build'?: string };
  assert.ok(lifecycle, 'no lifecycle part');
  const script = lifecycle['override-build'] ?? '';
  assert.match(script, 'node build.mjs');
  assert.match(script, /cp -a build\/snap\/\. "\$CRAFT_PART_INSTALL\/"/);
  assert.match(script, /meta\/snapshots\.yaml/);
  assert.is(project['adopt-info'], 'lifecycle');
  assert.match(script, /craftctl set version=/);
});

// ---------------------------------------------------------------------------------------------
// (c) daemons and commands map one-to-one onto apps

test('every daemon command in entries.mjs is run by exactly one service, and only by a service', () => {
  for (const d of entries.daemons) {
    const users = apps.filter(([, a]) => firstWord(a.command) === `bin/${d}`);
    assert.is(users.length, 1, `bin/${d} is used by ${users.length} apps (${users.map(([n]) => n).join(', ')})`);
    assert.ok(users[0]![1].daemon, `bin/${d} is run by apps.${users[0]![0]}, which is not a daemon`);
  }
  for (const [name, app] of services) {
    assert.ok(
      entries.daemons.some((d) => firstWord(app.command) === `bin/${d}`),
      `service ${name} runs ${app.command}, not a daemon command from entries.mjs`,
    );
  }
});

test('every user command in entries.mjs is an app of the same name (the command is the interface)', () => {
  for (const c of entries.commands) {
    const app = project.apps[c];
    assert.ok(app, `no app named ${c}`);
    assert.is(firstWord(app.command), `bin/${c}`);
    assert.is(app.daemon, undefined, `${c} must not be a daemon`);
  }
});

test('the services SPEC §2 names exist', () => {
  for (const s of ['postgres', 'redis', 'immich-server', 'immich-machine-learning', 'haproxy']) {
    assert.ok(project.apps[s]?.daemon, `service ${s} missing`);
  }
});

test('after/before name services of this snap', () => {
  const serviceNames = new Set(services.map(([n]) => n));
  for (const [name, app] of apps) {
    for (const dep of [...(app.after ?? []), ...(app.before ?? [])]) {
      assert.ok(app.daemon, `${name} is not a service but has after/before`);
      assert.ok(serviceNames.has(dep), `${name}: after/before names ${dep}, which is not a service`);
      assert.is.not(dep, name);
    }
    if (app.timer !== undefined) assert.ok(app.daemon, `${name} has a timer but is not a service`);
  }
  assert.ok(project.apps['immich-server']!.after?.includes('postgres'));
  assert.ok(project.apps['immich-server']!.after?.includes('redis'));
});

// ---------------------------------------------------------------------------------------------
// (d) build-time rules the schema does not carry (snapcraft pydantic validators, snapd)

test('name, version and summary follow snapcraft rules', () => {
  const name = project.name;
  assert.is(name, 'immich-distribution');
  assert.ok(name.length <= 40 && /^[a-z0-9-]*[a-z][a-z0-9-]*$/.test(name) && !/^-|-$|--/.test(name), `bad name ${name}`);
  // The version is adopted from snap/versions.json, or written in snapcraft.yaml.
  const version = project.version ?? versions.snap.version;
  assert.ok(version.length <= 32, `version ${version} is longer than 32`);
  assert.ok(/^[a-zA-Z0-9](?:[a-zA-Z0-9:.+~-]*[a-zA-Z0-9+~])?$/.test(version), `version ${version} breaks snapcraft's regex`);
  assert.ok(version.startsWith(versions.immich.version), `snap version ${version} does not start with Immich's ${versions.immich.version}`);
  assert.is(versions.immich.tag, `v${versions.immich.version}`);
  assert.ok(project.summary.length <= 78, `summary is ${project.summary.length} characters (max 78)`);
});

test('durations match snapd (no hours) and commands use snapd\'s character set', () => {
  for (const [name, app] of apps) {
    for (const key of ['stop-timeout', 'restart-delay', 'start-timeout', 'watchdog-timeout'] as const) {
      const v = app[key];
      if (v !== undefined) assert.ok(typeof v === 'string' && durationRe.test(v), `apps.${name}.${key}: ${String(v)}`);
    }
    for (const key of ['command', 'stop-command', 'reload-command', 'post-stop-command'] as const) {
      const v = app[key];
      if (v !== undefined) assert.ok(/^[A-Za-z0-9/. _#:$-]+$/.test(v), `apps.${name}.${key} has characters snapd rejects: ${v}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// (e) Postgres: unprivileged user, clean shutdown, Debian paths

test('Postgres runs as _daemon_ and shuts down fast and cleanly', () => {
  assert.ok(project['system-usernames'] && '_daemon_' in project['system-usernames'], 'system-usernames lacks _daemon_');
  assert.is(project['system-usernames']['_daemon_'], 'shared');
  const pg = project.apps['postgres']!;
  assert.is(pg['stop-mode'], 'sigint', 'postgres needs stop-mode sigint (fast shutdown)');
  assert.ok(pg['stop-timeout'] !== undefined && seconds(pg['stop-timeout']) >= 60, `postgres stop-timeout ${pg['stop-timeout']} < 60s`);
  assert.is.not(pg['restart-condition'], 'always', 'a hook stopping postgres on purpose must not be undone');
});

test('the layout makes /usr/lib/postgresql (Immich\'s pg_dump path) resolve inside the snap', () => {
  const layout = project.layout ?? {};
  for (const dir of [symbolic.pgRoot, join(symbolic.snap, 'usr/share/postgresql')]) {
    const inside = dir.slice('$SNAP'.length);
    const entry = layout[inside];
    assert.ok(entry, `layout does not cover ${inside}`);
    const target = entry['symlink'] ?? entry['bind'];
    assert.is(target, dir, `layout ${inside} points at ${String(target)}, not ${dir}`);
  }
  // A sample of what Immich actually runs resolves through it.
  const pgDump = symbolic.pgBin(versions.postgresql.major, 'pg_dump');
  assert.ok(pgDump.startsWith(`${symbolic.pgRoot}/`));
});

test('every long-running daemon stops on its service\'s own signal (the wrappers exec the service)', () => {
  // Postgres: fast shutdown; HAProxy: soft stop (master and workers); Redis: SIGTERM (save and
  // exit); Immich's server and ML: SIGTERM to every process (their supervisors do not pass it on).
  const native: Record<string, string> = {
    postgres: 'sigint',
    haproxy: 'sigusr1-all',
    redis: 'sigterm',
    'immich-server': 'sigterm-all',
    'immich-machine-learning': 'sigterm-all',
  };
  for (const [name, mode] of Object.entries(native)) {
    assert.is(project.apps[name]?.['stop-mode'] ?? 'sigterm', mode, `${name}: stop-mode`);
  }
  // SIGUSR1 opens Node's inspector: never a stop signal for a Node main process (Immich's server,
  // or any timer job, which stays one of our Node executables).
  for (const [name, app] of services) {
    if (name === 'haproxy') continue;
    const mode = app['stop-mode'] ?? 'sigterm';
    assert.not.ok(mode.startsWith('sigusr1'), `${name}: stop-mode ${mode} would open the Node inspector`);
  }
  // HAProxy's soft stop leaves open websockets until the stop-timeout: keep every stop short.
  assert.ok(seconds(project.apps['haproxy']!['stop-timeout'] ?? '90s') <= 15, 'haproxy stop-timeout must stay short');
});

test('haproxy reloads gracefully through its own daemon command', () => {
  const h = project.apps['haproxy']!;
  assert.is(h['reload-command'], `${firstWord(h.command)} reload`);
});

// ---------------------------------------------------------------------------------------------
// (f) snapshots.yaml

/** A snapd exclude pattern component matches a path component (`*` = any run of non-/). */
function componentMatches(pattern: string, component: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return re.test(component);
}
/** True when `pattern` excludes `path` itself, an ancestor of it, or anything below it. */
function touches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const q = path.split('/');
  const n = Math.min(p.length, q.length);
  for (let i = 0; i < n; i++) if (!componentMatches(p[i]!, q[i]!)) return false;
  return true;
}

test('snapshots.yaml is valid for snapd', () => {
  assert.ok(Array.isArray(snapshots.exclude), 'snapshots.yaml needs an exclude list');
  for (const p of snapshots.exclude as unknown[]) {
    assert.type(p, 'string');
    const s = p as string;
    const first = s.split('/')[0]!;
    assert.ok(['$SNAP_DATA', '$SNAP_COMMON', '$SNAP_USER_DATA', '$SNAP_USER_COMMON'].includes(first), `${s} must start with a data variable`);
    assert.ok(!/[[\]{}?]/.test(s) && !s.includes('**'), `${s}: only * is supported`);
    assert.ok(!s.includes('//') && !s.endsWith('/') && !/(^|\/)\.\.?(\/|$)/.test(s), `${s} is not a clean path`);
  }
});

test('snapshots exclude regenerable data only: thumbnails, encoded videos, ML models', () => {
  const exclude = snapshots.exclude as string[];
  // What Immich regenerates: per-user thumbnail and video folders (a user id is a UUID), ML models.
  const user = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const regenerable = [join(symbolic.defaultMedia, 'thumbs', user, '0f/8f/a.webp'), join(symbolic.defaultMedia, 'encoded-video', user, '0f/8f/a.mp4'), join(symbolic.mlCache, 'clip')];
  for (const r of regenerable) assert.ok(exclude.some((pattern) => touches(pattern, r) && pattern.split('/').length <= r.split('/').length), `snapshots.yaml does not exclude ${r}`);
  const precious = [
    // Immich's folder markers: a folder that lost its .immich stops Immich at start-up.
    ...['upload', 'library', 'profile', 'backups', 'thumbs', 'encoded-video'].map((f) => join(symbolic.defaultMedia, f, '.immich')),
    join(symbolic.defaultMedia, 'upload'),
    join(symbolic.defaultMedia, 'library'),
    join(symbolic.defaultMedia, 'profile'),
    join(symbolic.defaultMedia, 'backups'),
    symbolic.pgClustersDir,
    symbolic.secretsDir,
    symbolic.stateFile,
    symbolic.defaultBackups,
    symbolic.etcDir,
    symbolic.appliedConfig,
  ];
  for (const pattern of exclude) {
    for (const p of precious) assert.not.ok(touches(pattern, p), `snapshots.yaml pattern ${pattern} would drop ${p}`);
    assert.not.ok(/postgres/.test(pattern), `snapshots.yaml must never exclude Postgres data (${pattern})`);
  }
});

// ---------------------------------------------------------------------------------------------
// (g) snap/versions.json is the one place versions live; the few literal copies apt needs agree

test('Postgres majors in stage-packages match snap/versions.json', () => {
  const majors = [versions.postgresql.major, ...versions.postgresql.upgradeFrom].sort((a, b) => a - b);
  const staged = (part: string, re: RegExp): number[] =>
    (project.parts[part]?.['stage-packages'] ?? [])
      .map((p) => re.exec(p)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  assert.equal(staged('postgresql', /^postgresql-(\d+)$/), majors, 'postgresql part: server packages');
  assert.equal(staged('vectorchord', /^postgresql-(\d+)-pgvector$/), majors, 'vectorchord part: pgvector packages');
  assert.ok(versions.postgresql.upgradeFrom.every((m) => m < versions.postgresql.major), 'upgradeFrom must be older majors');
  assert.ok(versions.postgresql.major >= 17, 'SPEC §2: PostgreSQL 17 or newer');
});

test('jellyfin-ffmpeg apt pin matches snap/versions.json', () => {
  const pkgs = project.parts['ffmpeg']?.['stage-packages'] ?? [];
  assert.ok(pkgs.includes(`${versions.jellyfinFfmpeg.package}=${versions.jellyfinFfmpeg.version}`), `ffmpeg stage-packages: ${pkgs.join(', ')}`);
});

test('every sha256 in snap/versions.json is 64 hex digits, and the parts never hard-code one', () => {
  // Every string leaf below a key named *sha256* (flat, or per architecture / per major).
  const walk = (v: unknown, path: string, underSha: boolean): void => {
    if (typeof v === 'string') {
      if (underSha) assert.ok(/^[0-9a-f]{64}$/.test(v), `${path} is not a sha256: ${v}`);
      return;
    }
    if (v && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) walk(c, `${path}.${k}`, underSha || /sha256/i.test(k));
    }
  };
  walk(versions, 'versions', false);
  assert.not.ok(/\b[0-9a-f]{64}\b/.test(yamlText), 'snapcraft.yaml hard-codes a checksum; pin it in snap/versions.json');
  for (const [name, part] of Object.entries(project.parts)) {
    assert.not.ok('source-tag' in part, `parts.${name}: the Immich tag belongs in snap/versions.json (read by override-pull)`);
  }
});

test.run();
