import { applyPlan } from '../../configure/apply.js';
import { readIfExists } from '../../configure/render.js';
import { planChanges, parseRecord, recordOf } from '../../settings/plan.js';
import { KNOWN_ROOTS, type SettingsContext } from '../../settings/schema.js';
import { defaultsToWrite, flattenConfig, validateSettings } from '../../settings/validate.js';
import { snapEnv } from '../../snap/env.js';
import { UserError } from '../../snap/errors.js';
import { writeFileIfChanged } from '../../snap/files.js';
import { step } from '../../snap/log.js';
import { snapPaths } from '../../snap/paths.js';
import { Snapctl } from '../../snap/snapctl.js';

/**
 * The configure hook (SPEC §3): read the whole config, validate it with the one schema (all
 * problems at once), plan what changed since the last applied config, apply only that, write
 * defaults back so `snap get` shows the effective config, and record what was applied.
 * snapd runs it after `snap set`/`unset`, after install and after every refresh; on failure the
 * `snap set` is rolled back and queued service operations never run.
 */
export async function configure(): Promise<number> {
  const env = snapEnv();
  const paths = snapPaths(env);
  const snapctl = new Snapctl();
  const ctx: SettingsContext = { snapCommon: paths.common };

  const { doc, complete } = await snapctl.getAll(KNOWN_ROOTS);
  if (!complete) step('configure: this snapd cannot list every key; only known settings were checked');
  const flat = flattenConfig(doc);
  const result = validateSettings(flat, ctx);
  if (!result.ok) {
    for (const problem of result.problems) step(problem);
    throw new UserError(`${result.problems.length === 1 ? 'the setting above was' : `${result.problems.length} settings above were`} rejected; nothing was changed`);
  }
  const settings = result.settings;
  // Files rendered by another revision's code (after a refresh, a revert or a snapshot restore)
  // are re-rendered by this one: plan it as a first run, which restarts only what changed.
  const previous = readIfExists(paths.appliedRevision)?.trim() === env.SNAP_REVISION ? readRecord(paths.appliedConfig, ctx) : undefined;
  const plan = planChanges(previous, settings);
  await applyPlan({ paths, snapctl, previous, settings, plan });

  const defaults = defaultsToWrite(settings, flat);
  if (Object.keys(defaults).length > 0) await snapctl.set(defaults);
  writeFileIfChanged(paths.appliedConfig, `${JSON.stringify(recordOf(settings), null, 2)}\n`, 0o600);
  writeFileIfChanged(paths.appliedRevision, `${env.SNAP_REVISION}\n`, 0o644);
  return 0;
}

function readRecord(file: string, ctx: SettingsContext) {
  const text = readIfExists(file);
  return text === undefined ? undefined : parseRecord(text, ctx);
}
