import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const buildSnapDir = join(repoRoot, 'build', 'snap');
/** The Immich doubles (test/doubles), laid out as the recipe installs Immich under $SNAP. */
export const doublesDir = join(repoRoot, 'build', 'doubles');

let doublesBuilt = false;
/** Builds the Immich doubles into build/doubles once per test process (about a second). */
export function ensureDoubles(): string {
  if (!doublesBuilt) {
    execFileSync(process.execPath, [join(repoRoot, 'test/doubles/build.mjs'), doublesDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    doublesBuilt = true;
  }
  return doublesDir;
}

let shippedNodePath: string | undefined;
/**
 * The Node binary the snap ships (snap/versions.json `node.version`, from the npm registry's
 * node-linux-<arch> package; scripts/shipped-node.sh installs it once). Every compiled hook,
 * command and daemon runs with it, never with the test runner's Node: process.execve (the
 * daemons' hand-over) and start-up time depend on it.
 */
export function shippedNode(): string {
  shippedNodePath ??= execFileSync('bash', [join(repoRoot, 'scripts/shipped-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return shippedNodePath;
}

/** Host files linked into the fake $SNAP, following SPEC §2's paths contract. */
export function hostLinks(pgMajors: number[] = [15]): Record<string, string> {
  const doubles = ensureDoubles();
  const links: Record<string, string> = {
    'usr/sbin/haproxy': '/usr/sbin/haproxy',
    'usr/bin/redis-server': '/usr/bin/redis-server',
    'usr/bin/redis-cli': '/usr/bin/redis-cli',
    'usr/bin/node': shippedNode(),
    'usr/bin/lego': '/usr/bin/lego',
    'usr/bin/openssl': '/usr/bin/openssl',
    'usr/bin/zstd': '/usr/bin/zstd',
    'usr/bin/python3': '/usr/bin/python3',
    // Immich itself is not built here: its doubles (test/doubles) stand where the recipe installs
    // the server, web/geodata/plugin build data, machine learning and jellyfin-ffmpeg.
    'usr/lib/immich': join(doubles, 'usr/lib/immich'),
    'usr/lib/jellyfin-ffmpeg': join(doubles, 'usr/lib/jellyfin-ffmpeg'),
    'usr/bin/ffmpeg': '../lib/jellyfin-ffmpeg/ffmpeg',
    'usr/bin/ffprobe': '../lib/jellyfin-ffmpeg/ffprobe',
  };
  for (const m of pgMajors) {
    links[`usr/lib/postgresql/${m}`] = `/usr/lib/postgresql/${m}`;
    links[`usr/share/postgresql/${m}`] = `/usr/share/postgresql/${m}`;
  }
  return links;
}

export interface FakeSnapLayout {
  root: string;
  instance: string;
  revision: string;
  /** $SNAP */
  snap: string;
  /** $SNAP_DATA */
  data: string;
  /** $SNAP_COMMON */
  common: string;
}

/**
 * Lays out a fake installed revision under `root` the way snapd does on the host:
 * root/snap/<instance>/<rev> ($SNAP, our build/snap plus usr/ links to the host's Debian packages),
 * root/var/snap/<instance>/<rev> ($SNAP_DATA) and root/var/snap/<instance>/common ($SNAP_COMMON).
 * Data directories are created empty, as snapd's copy-snap-data does on first install.
 */
export function layoutRevision(opts: {
  root: string;
  instance?: string;
  revision: string;
  from?: string;
  links?: Record<string, string>;
  createData?: boolean;
}): FakeSnapLayout {
  const instance = opts.instance ?? 'immich-distribution';
  const root = resolve(opts.root);
  const snap = join(root, 'snap', instance, opts.revision);
  const data = join(root, 'var/snap', instance, opts.revision);
  const common = join(root, 'var/snap', instance, 'common');
  const from = opts.from ?? buildSnapDir;
  if (!existsSync(join(from, 'meta/hooks'))) throw new Error(`${from} has no meta/hooks: run npm run build first`);
  // Extensionless bundles are CommonJS; make sure no package.json above them says otherwise.
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), '{ "type": "commonjs" }\n');
  mkdirSync(dirname(snap), { recursive: true });
  cpSync(from, snap, { recursive: true, verbatimSymlinks: true });
  for (const [rel, target] of Object.entries(opts.links ?? hostLinks())) {
    const p = join(snap, rel);
    if (existsSync(p)) continue;
    mkdirSync(dirname(p), { recursive: true });
    symlinkSync(target, p);
  }
  // The recipe's changes to staged binaries that apply to host links (snap/local/runtime-fixes.sh):
  // `python` for Immich ML's re-exec. (pg-client-rpath cannot patch the host's own Postgres, which
  // finds its libpq in the host's default library path.)
  if (existsSync(join(snap, 'usr/bin/python3')) && !existsSync(join(snap, 'usr/bin/python'))) {
    execFileSync('bash', [join(repoRoot, 'snap/local/runtime-fixes.sh'), 'python-alias', snap], { stdio: 'ignore' });
  }
  if (opts.createData !== false) {
    mkdirSync(data, { recursive: true, mode: 0o755 });
    mkdirSync(common, { recursive: true, mode: 0o755 });
  }
  // The first revision laid out is linked as `current`, as snapd's link-snap does before any hook
  // runs (later revisions are linked by the caller, FakeSnapd.link, at the point snapd does it).
  for (const dir of [dirname(snap), dirname(data)]) {
    const current = join(dir, 'current');
    if (!existsSync(current)) {
      mkdirSync(dir, { recursive: true });
      symlinkSync(opts.revision, current);
    }
  }
  return { root, instance, revision: opts.revision, snap, data, common };
}

/**
 * The variables snapd gives a hook or app of this revision (reference §A5), minus the cookie, and
 * snap.yaml's PATH (the snap's own bin folders first, then the machine's), so that a compiled
 * executable started directly finds the snap's node (`#!/usr/bin/env node`), as in the snap.
 * FakeSnapd replaces PATH with snapd's exact one.
 */
export function snapEnvFor(l: FakeSnapLayout, version = '0.1.0'): Record<string, string> {
  const name = l.instance.split('_')[0]!;
  const key = l.instance.includes('_') ? l.instance.slice(name.length + 1) : '';
  return {
    SNAP: l.snap,
    SNAP_DATA: l.data,
    SNAP_COMMON: l.common,
    SNAP_NAME: name,
    SNAP_INSTANCE_NAME: l.instance,
    SNAP_INSTANCE_KEY: key,
    SNAP_REVISION: l.revision,
    SNAP_VERSION: version,
    SNAP_ARCH: process.arch === 'arm64' ? 'arm64' : 'amd64',
    SNAP_LIBRARY_PATH: '/var/lib/snapd/lib/gl:/var/lib/snapd/lib/gl32:/var/lib/snapd/void',
    SNAP_REEXEC: '',
    SNAP_UID: '0',
    SNAP_EUID: '0',
    SNAP_USER_DATA: join(l.root, 'root/snap', l.instance, l.revision),
    SNAP_USER_COMMON: join(l.root, 'root/snap', l.instance, 'common'),
    SNAP_REAL_HOME: '/root',
    HOME: join(l.root, 'root/snap', l.instance, l.revision),
    XDG_RUNTIME_DIR: join(l.root, 'run/user/0', `snap.${l.instance}`),
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    PATH: [`${l.snap}/usr/sbin`, `${l.snap}/usr/bin`, `${l.snap}/sbin`, `${l.snap}/bin`, process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':'),
  };
}
