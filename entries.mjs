// The one list of executables we ship: where each is built from and where it sits under $SNAP.
// snap/snapcraft.yaml names these paths (a test checks both agree).

export const hooks = ['install', 'configure', 'pre-refresh', 'post-refresh', 'remove', 'check-health'];
export const commands = ['psql', 'backup', 'restore', 'status', 'immich-admin'];
export const daemons = ['run-postgres', 'run-redis', 'run-haproxy', 'run-immich-server', 'run-immich-ml', 'backup-timer', 'acme-renew'];

export const executables = [
  // Hooks: meta/hooks/<hook> is where snapd runs them from. The same files are committed to the
  // project's snap/hooks/ (`npm run build -- --snap-hooks`), which snapcraft copies to meta/hooks/.
  ...hooks.map((h) => ({ kind: 'hook', name: h, source: `hooks-src/hooks/${h}.ts`, targets: [`meta/hooks/${h}`] })),
  ...commands.map((c) => ({ kind: 'command', name: c, source: `wrappers/commands/${c}.ts`, targets: [`bin/${c}`] })),
  ...daemons.map((d) => ({ kind: 'daemon', name: d, source: `wrappers/daemons/${d}.ts`, targets: [`bin/${d}`] })),
];
