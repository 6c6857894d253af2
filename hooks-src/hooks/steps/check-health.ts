import { withConnection } from '../../postgres/cluster.js';
import { pgTarget } from '../../backup/context.js';
import { readIfExists } from '../../configure/render.js';
import { parseRecord } from '../../settings/plan.js';
import { snapEnv } from '../../snap/env.js';
import { step } from '../../snap/log.js';
import { snapPaths } from '../../snap/paths.js';
import { Snapctl } from '../../snap/snapctl.js';
import { httpGet, redisPing, timed, withTimeout } from '../../status/probes.js';

/**
 * The check-health hook (snapd runs it after install, refresh and revert, with a 30 s timeout):
 * real probes — Postgres answers a query, Redis answers PING, Immich answers /api/server/ping
 * through HAProxy — reported with `snapctl set-health`. It always exits 0: a failing check-health
 * would make snapd undo the whole install or refresh, while Immich may legitimately still be
 * migrating its database; the health status says what is wrong instead (`snap info`, `snap list`).
 */
export async function checkHealth(): Promise<number> {
  const paths = snapPaths(snapEnv());
  const snapctl = new Snapctl();
  const settings = parseRecord(readIfExists(paths.appliedConfig) ?? '', { snapCommon: paths.common });
  const httpPort = settings && settings['http.port'] !== 'off' ? settings['http.port'] : undefined;

  // Immich may be starting: give it a few seconds before calling it "waiting".
  const immichUp = async (): Promise<string> => {
    if (httpPort === undefined) return 'HTTP is off; HTTPS only';
    const end = Date.now() + 15_000;
    for (;;) {
      try {
        return await httpGet(httpPort, '/api/server/ping');
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const [postgres, redis, immich] = await Promise.all([
    timed(() => withTimeout(withConnection(pgTarget(paths), 'immich', async (db) => (await db.query('SELECT 1')).rows.length === 1 ? 'ok' : 'no row'), 5000, 'postgres')),
    timed(() => withTimeout(redisPing(paths), 5000, 'redis')),
    timed(() => withTimeout(immichUp(), 20_000, 'immich')),
  ]);

  if (!postgres.ok) await snapctl.setHealth('error', `Postgres does not answer: ${postgres.detail}`.slice(0, 70), 'postgres-down');
  else if (!redis.ok) await snapctl.setHealth('error', `Redis does not answer: ${redis.detail}`.slice(0, 70), 'redis-down');
  else if (!immich.ok) await snapctl.setHealth('waiting', 'Immich is starting (or migrating its database)', 'immich-starting');
  else await snapctl.setHealth('okay');
  step(`check-health: postgres ${postgres.ok ? 'ok' : 'down'}, redis ${redis.ok ? 'ok' : 'down'}, immich ${immich.ok ? 'ok' : 'not yet'}`);
  return 0;
}
