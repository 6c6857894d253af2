// `npm run pins -- --tag v3.2.4 [options]`: moves snap/versions.json to a new Immich tag, writing
// only values verified against each upstream's own signature, checksum list or lock file. Needs
// internet (a maintainer's machine); the tests drive `run` with a fake network (test/unit/pins/).
//
// Writes nothing unless every value verified: on any failure it prints ONE line naming the artifact,
// its URL and what did not match, exits 1, and versions.json stays byte-identical. Stack traces only
// with IMMICH_DISTRIBUTION_DEBUG=1.
import { existsSync, fsyncSync, closeSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { oneLine, PinError, UsageError } from './errors.js';
import { gather, type Options } from './gather.js';
import { createNet, type Net } from './net.js';
import { planPins } from './plan.js';
import { diffPins, readPins, serializeVersions, writePins, type Change } from './versions.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_VERSIONS = join(REPO_ROOT, 'snap', 'versions.json');

const USAGE =
  'usage: npm run pins -- --tag vX.Y.Z [--dry-run] [--versions snap/versions.json] [--node-keyring FILE] [--uv VER] [--lego VER] [--libvips VER] [--vectorchord VER] [--natural-earth VER]';

const HELP = `${USAGE}

Moves snap/versions.json to an Immich tag. Every value is verified before anything is written:
  immich      the tag's commit (git ls-remote; the peeled commit of an annotated tag)
  python      Ubuntu's python (python.version) satisfies the tag's machine-learning/uv.lock requires-python
  libvips     libvips.version is new enough for the sharp the tag's pnpm-lock.yaml installs
  node        the tag's .nvmrc; SHASUMS256.txt.sig verified with gpgv against --node-keyring,
              both .tar.xz hashed and compared with SHASUMS256.txt
  pluginTools extism js-pdk and binaryen, URLs and sha256 from the tag's mise.lock, downloads hashed
  uv          uv.version (or --uv), both tarballs hashed and compared with their .sha256 files
  geodata     the Natural Earth geojson must still hash to the pinned sha256 (no upstream checksum;
              a new version is refused: verify it by hand and edit versions.json)
  lego, libvips, vectorchord
              the pinned version's tag must still resolve to the pinned commit; --lego/--libvips/
              --vectorchord VER pin that version's tag commit instead
A value that changed while its version did not (a moved tag, a re-uploaded file) is refused.

--node-keyring FILE (or NODE_RELEASE_KEYRING): a gpg keyring with the Node.js release keys, e.g.
  git clone https://github.com/nodejs/release-keys
  for f in release-keys/keys/*.asc; do gpg --dearmor < "$f"; done > node-release-keys.gpg
--dry-run prints what would change and writes nothing.`;

export interface RunContext {
  net: Net;
  env: Record<string, string | undefined>;
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Transient progress (only shown on a terminal). */
  status?: (text: string) => void;
  versionsPath?: string;
}

interface Parsed {
  help: boolean;
  dryRun: boolean;
  versions: string;
  options: Options;
}

const EXACT = /^\d+\.\d+\.\d+$/;

function parse(argv: string[], ctx: RunContext): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        tag: { type: 'string' },
        'dry-run': { type: 'boolean' },
        versions: { type: 'string' },
        'node-keyring': { type: 'string' },
        uv: { type: 'string' },
        lego: { type: 'string' },
        libvips: { type: 'string' },
        vectorchord: { type: 'string' },
        'natural-earth': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const versions = values.versions === undefined ? (ctx.versionsPath ?? DEFAULT_VERSIONS) : resolve(ctx.cwd, values.versions);
  if (values.help) return { help: true, dryRun: false, versions, options: { tag: '', nodeKeyring: '' } };

  const tag = values.tag;
  if (tag === undefined) throw new UsageError('--tag is required');
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(tag)) throw new UsageError(`--tag ${tag} is not an Immich release tag (vX.Y.Z)`);
  for (const name of ['uv', 'lego', 'libvips', 'vectorchord', 'natural-earth'] as const) {
    const v = values[name];
    if (v !== undefined && !EXACT.test(v)) throw new UsageError(`--${name} ${v}: give the version as X.Y.Z (no leading v)`);
  }
  const keyringArg = values['node-keyring'] ?? ctx.env['NODE_RELEASE_KEYRING'];
  if (keyringArg === undefined || keyringArg === '') {
    throw new UsageError(
      'no Node.js release keyring: pass --node-keyring FILE or set NODE_RELEASE_KEYRING; make one with `git clone https://github.com/nodejs/release-keys && for f in release-keys/keys/*.asc; do gpg --dearmor < "$f"; done > node-release-keys.gpg`',
    );
  }
  const nodeKeyring = resolve(ctx.cwd, keyringArg);
  if (!existsSync(nodeKeyring)) throw new UsageError(`Node.js release keyring ${nodeKeyring} does not exist`);

  const options: Options = { tag, nodeKeyring };
  if (values.uv !== undefined) options.uv = values.uv;
  if (values.lego !== undefined) options.lego = values.lego;
  if (values.libvips !== undefined) options.libvips = values.libvips;
  if (values.vectorchord !== undefined) options.vectorchord = values.vectorchord;
  if (values['natural-earth'] !== undefined) options.naturalEarth = values['natural-earth'];
  return { help: false, dryRun: values['dry-run'] === true, versions, options };
}

export function renderChanges(changes: Change[]): string {
  if (changes.length === 0) return '';
  const width = Math.max(...changes.map((c) => c.path.length));
  return changes.map((c) => `  ${c.path.padEnd(width)}  ${c.from} → ${c.to}`).join('\n');
}

/** Writes `text` to `file` through a temporary file in the same directory and a rename. */
export function writeAtomically(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.pins-${process.pid}.tmp`);
  const mode = statSync(file).mode & 0o777;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function run(argv: string[], ctx: RunContext): Promise<number> {
  let versionsPath = ctx.versionsPath ?? DEFAULT_VERSIONS;
  try {
    const args = parse(argv, ctx);
    versionsPath = args.versions;
    if (args.help) {
      ctx.out(`${HELP}\n`);
      return 0;
    }
    let before: string;
    try {
      before = readFileSync(versionsPath, 'utf8');
    } catch (err) {
      throw new PinError('versions.json', versionsPath, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let doc: unknown;
    let current;
    try {
      doc = JSON.parse(before);
      current = readPins(doc);
    } catch (err) {
      throw new PinError('versions.json', versionsPath, (err as Error).message);
    }

    const { facts, notes, warnings } = await gather(current, args.options, ctx.net, ctx.status);
    const next = planPins(current, facts);
    const text = serializeVersions(writePins(doc, next));
    const changes = diffPins(current, next);

    const table = renderChanges(changes);
    const head =
      changes.length === 0
        ? `${versionsPath} already matches Immich ${facts.immich.tag} (${facts.immich.commit}); nothing to write`
        : `${args.dryRun ? 'dry run: would change' : 'changed'} ${changes.length} value${changes.length === 1 ? '' : 's'} in ${versionsPath} for Immich ${facts.immich.tag} (${facts.immich.commit}):`;
    const lines = [head];
    if (table) lines.push(table);
    lines.push(...notes.map((n) => `verified: ${n}`), ...warnings.map((w) => `warning: ${w}`));
    if (changes.length > 0 && !args.dryRun) {
      // Someone (an editor, a second run) changed the file while we were downloading: do not clobber it.
      if (readFileSync(versionsPath, 'utf8') !== before) throw new PinError('versions.json', versionsPath, 'changed on disk while the script ran');
      writeAtomically(versionsPath, text);
    }
    if (changes.length > 0 && args.dryRun) lines.push('dry run: nothing written');
    if (changes.length > 0 && !args.dryRun) lines.push('review the "$comment" entries of the changed sections: they are kept as they were');
    ctx.out(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    const e = err as Error;
    let line: string;
    if (err instanceof PinError) line = `pins: REFUSED ${err.message}; ${basename(versionsPath)} not changed`;
    else if (err instanceof UsageError) line = `pins: ${err.message} (npm run pins -- --help)`;
    else line = `pins: ${e?.message ?? String(err)}; ${basename(versionsPath)} not changed`;
    ctx.err(`${oneLine(line)}\n`);
    if (ctx.env['IMMICH_DISTRIBUTION_DEBUG'] === '1') {
      let c: unknown = err;
      while (c instanceof Error) {
        ctx.err(`${c.stack ?? c.message}\n`);
        c = c.cause;
      }
    }
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const tty = process.stderr.isTTY === true;
  process.exitCode = await run(process.argv.slice(2), {
    net: createNet(),
    env: process.env,
    cwd: process.env['INIT_CWD'] ?? process.cwd(),
    out: (t) => {
      if (tty) process.stderr.write('\r\x1b[K');
      process.stdout.write(t);
    },
    err: (t) => {
      if (tty) process.stderr.write('\r\x1b[K');
      process.stderr.write(t);
    },
    status: tty ? (t) => process.stderr.write(`\r\x1b[K${t.slice(0, (process.stderr.columns ?? 100) - 1)}`) : () => {},
  });
  if (tty) process.stderr.write('\r\x1b[K');
}
