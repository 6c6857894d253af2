import {
  SETTING_KEYS,
  type ServiceEffect,
  type ServiceName,
  type SettingKey,
  type StepName,
  settingDef,
} from './schema.js';

/** README.md's generated section lies between these two lines. */
export const START_MARKER = '<!-- settings:start -->';
export const END_MARKER = '<!-- settings:end -->';
export const UPDATE_COMMAND = 'node --import tsx scripts/update-readme-settings.ts';

const EFFECT_TEXT: Record<ServiceEffect, (service: ServiceName) => string> = {
  reload: (s) => `reloads ${s} (graceful)`,
  restart: (s) => `restarts ${s}`,
  'enable-disable': (s) => `starts and enables, or stops and disables, ${s}`,
};

const STEP_TEXT: Record<StepName, string> = {
  'check-media-location': 'checks the new place first (removable-media connected, writable, holds the data)',
  'check-backup-location': 'checks the new place first (removable-media connected, writable)',
  certificate: 'makes the certificate present (when HTTPS is on)',
  'rotate-database-password': 'rotates the password (ALTER ROLE and secret file, in one transaction); nothing restarts',
  'update-immich-ml-config': "updates Immich's machine-learning settings",
};

/** One Markdown table cell: pipes escaped, no line breaks. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function code(text: string): string {
  return `\`${text}\``;
}

/**
 * "What a change does", in words, from the key's steps, affects (plus the planner's rule that a
 * certificate step reloads HAProxy), activeWhen and render.
 */
export function changeEffect(key: SettingKey): string {
  const def = settingDef(key);
  const parts: string[] = [];
  for (const step of def.steps ?? []) parts.push(STEP_TEXT[step]);
  const affects = { ...def.affects };
  if (def.steps?.includes('certificate') && !affects.haproxy) affects.haproxy = 'reload';
  for (const [service, effect] of Object.entries(affects) as [ServiceName, ServiceEffect][]) {
    parts.push(EFFECT_TEXT[effect](service));
  }
  let text = parts.length > 0 ? parts.join('; ') : 'nothing restarts; read when next used';
  if (def.activeWhen) {
    const cond = Object.entries(def.activeWhen)
      .map(([k, values]) => `${k} is ${values.map((v) => (v === '' ? 'empty' : String(v))).join('/')}`)
      .join(' and ');
    text += ` (only while ${cond})`;
  }
  if (def.render.length > 0) text += `; renders ${def.render.join(', ')}`;
  return text;
}

/** The Markdown settings table, generated from the schema (one row per key, in schema order). */
export function renderSettingsTable(): string {
  const rows = [
    '| Key | Default | Allowed values | Description | What a change does |',
    '|---|---|---|---|---|',
  ];
  for (const key of SETTING_KEYS) {
    const def = settingDef(key);
    rows.push(`| ${[code(key), code(def.defaultDoc), def.allowed, def.description, changeEffect(key)].map(cell).join(' | ')} |`);
  }
  return `${rows.join('\n')}\n`;
}

/**
 * README text with the marked section replaced by `table`. Throws a message a person can act on
 * when the markers are missing, duplicated or out of order.
 */
export function replaceSettingsSection(readme: string, table: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1) {
    throw new Error(`README.md has no ${START_MARKER} … ${END_MARKER} markers; add both around the settings table, then run ${UPDATE_COMMAND}`);
  }
  if (readme.indexOf(START_MARKER, start + 1) !== -1 || readme.indexOf(END_MARKER, end + 1) !== -1 || end < start) {
    throw new Error(`README.md must have exactly one ${START_MARKER} followed by one ${END_MARKER}`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n\n${table}\n${readme.slice(end)}`;
}

/** The marked section as it is in the README, for staleness checks. */
export function isSettingsSectionCurrent(readme: string): boolean {
  return replaceSettingsSection(readme, renderSettingsTable()) === readme;
}
