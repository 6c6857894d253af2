// Every executable we ship is a standalone single file: it runs with nothing but node beside it,
// as it does under $SNAP (no node_modules, no sibling files, no package.json above it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const snapDir = join(root, 'build', 'snap');

interface Executable {
  kind: 'hook' | 'command' | 'daemon';
  name: string;
  source: string;
  targets: string[];
}

// entries.mjs is plain JS without type declarations; a computed specifier keeps tsc from looking
// for them, and the shape is checked below.
const entriesUrl = pathToFileURL(join(root, 'entries.mjs')).href;
const { executables } = (await import(entriesUrl)) as { executables: Executable[] };
const buildUrl = pathToFileURL(join(root, 'build.mjs')).href;
const { buildAll } = (await import(buildUrl)) as { buildAll: (o?: { quiet?: boolean }) => Promise<void> };

/** Newest modification time of the files a build reads. */
function newestSource(): number {
  let newest = 0;
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['hooks-src', 'wrappers', 'build.mjs', 'entries.mjs', 'package-lock.json']) {
    if (existsSync(join(root, p))) walk(join(root, p));
  }
  return newest;
}

/** Uses the existing build when it is complete and newer than every source; else builds once. */
async function ensureBuilt(): Promise<void> {
  const newest = newestSource();
  const fresh = executables.every(({ targets }) =>
    targets.every((t) => {
      const p = join(snapDir, t);
      return existsSync(p) && statSync(p).mtimeMs >= newest;
    }),
  );
  if (!fresh) await buildAll({ quiet: true });
}

await ensureBuilt();

// A scratch directory outside the repository: nothing from the project is found above it.
const scratch = mkdtempSync(join(tmpdir(), 'immich-distribution-standalone-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

/** An environment with no trace of a snap (the CI machine has none; a developer's might). */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('SNAP') || k === 'IMMICH_DISTRIBUTION_DEBUG' || k.startsWith('NODE_')) continue;
    env[k] = v;
  }
  // `#!/usr/bin/env node` must find the node that runs these tests.
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`;
  return env;
}

/** Copies one executable ALONE into its own empty directory and returns the copy's path. */
let copies = 0;
function isolate(target: string): string {
  const dir = join(scratch, String(copies++));
  mkdirSync(dir);
  const copy = join(dir, basename(target));
  copyFileSync(join(snapDir, target), copy);
  chmodSync(copy, 0o755);
  assert.equal(readdirSync(dir), [basename(target)], 'the copy is alone in its directory');
  return copy;
}

function run(file: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { cwd: dirname(file), env: bareEnv(), encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('entries.mjs lists executables and the scratch directory is outside the repository', () => {
  assert.ok(executables.length > 0);
  for (const e of executables) {
    assert.ok(['hook', 'command', 'daemon'].includes(e.kind), `${e.name}: kind ${e.kind}`);
    assert.ok(e.targets.length > 0, `${e.name}: no targets`);
  }
  const rel = relative(root, scratch);
  assert.ok(rel.startsWith('..') || rel.startsWith(sep), `scratch ${scratch} must be outside ${root}`);
  for (let d = scratch; d !== dirname(d); d = dirname(d)) {
    assert.not.ok(existsSync(join(d, 'package.json')), `${d}/package.json would be found above the copies`);
    assert.not.ok(existsSync(join(d, 'node_modules')), `${d}/node_modules would be found above the copies`);
  }
});

for (const exe of executables) {
  for (const target of exe.targets) {
    const path = join(snapDir, target);

    test(`${target}: shebang, mode 0755, self-contained bundle`, () => {
      const text = readFileSync(path, 'utf8');
      assert.ok(text.startsWith('#!/usr/bin/env node\n'), 'starts with #!/usr/bin/env node');
      assert.is((statSync(path).mode & 0o7777).toString(8), '755', 'mode 0755');
      const relRequire = /require\(\s*["'`]\.\.?\//.exec(text);
      assert.is(relRequire, null, `requires a relative file: ${relRequire?.[0] ?? ''}`);
      // Every module the bundle still requires must be one of Node's own; pg-native is the one
      // optional exception (pg requires it lazily, only when asked for native bindings).
      const required = [...text.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]!);
      const foreign = required.filter((m) => !builtinModules.includes(m.replace(/^node:/, '')) && m !== 'pg-native');
      assert.equal([...new Set(foreign)], [], `requires modules that are not bundled: ${foreign.join(', ')}`);
    });

    test(`${target}: --help works when the file stands alone`, () => {
      const r = run(isolate(target), ['--help']);
      assert.is(r.status, 0, `exit status (stderr: ${r.stderr.trim()})`);
      const first = r.stdout.split('\n')[0] ?? '';
      assert.ok(first.trim().length > 0, 'prints a usage line');
      assert.ok(first.includes(exe.name), `usage line names ${exe.name}: ${first}`);
      assert.is(r.stderr, '', 'nothing on stderr');
    });

    if (exe.kind === 'hook' || exe.kind === 'command') {
      test(`${target}: outside the snap it fails with one line`, () => {
        const r = run(isolate(target), []);
        assert.ok(r.status !== 0 && r.status !== null, `exit status ${String(r.status)} must be non-zero`);
        const lines = r.stderr.split('\n').filter((l) => l !== '');
        assert.is(lines.length, 1, `exactly one line on stderr, got:\n${r.stderr}`);
        assert.match(lines[0] ?? '', 'not running inside the snap');
        assert.ok(r.stderr.endsWith('\n'), 'the line ends with a newline');
      });
    }
  }
}

test.run();
