// Shared by the settings tests (no tests here).
import type { Settings } from '../../../hooks-src/settings/schema.js';
import { validateSettings } from '../../../hooks-src/settings/validate.js';

export const COMMON = '/var/snap/immich-distribution/common';
export const ctx = { snapCommon: COMMON };

/** Settings from flat snap values; throws with the problems if they do not validate. */
export function settingsWith(flat: Record<string, unknown> = {}): Settings {
  const r = validateSettings(flat, ctx);
  if (!r.ok) throw new Error(`fixture does not validate:\n${r.problems.join('\n')}`);
  return r.settings;
}

/** Problems of a flat config ([] when it validates). */
export function problemsOf(flat: Record<string, unknown>): string[] {
  const r = validateSettings(flat, ctx);
  return r.ok ? [] : r.problems;
}

export const PASSWORD = 'Zq8-vT3_kL9.mN2~pR5wX7yB';
