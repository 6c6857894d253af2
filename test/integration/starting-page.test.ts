// The "Immich is starting" page as a person sees it: Debian's chromium, headless, opens HAProxy's
// HTTP port while the Immich server is down, the page renders its message (screenshot saved to
// test-artifacts/starting-page.png), and once the server is back the page moves on to the
// application by itself. Chromium is driven with the DevTools protocol over --remote-debugging-pipe
// (fds 3/4, NUL-separated JSON): no npm package, and no WebSocket (not global in Node 20).
// Issue 4.7.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { FakeSnapd } from '../harness/fake-snapd.js';
import { repoRoot } from '../harness/fake-snap.js';

const HTTP = 18_281;
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACT = join(repoRoot, 'test-artifacts', 'starting-page.png');
/** The page polls every 2 s and HAProxy checks a down server every 1 s: well within this. */
const MOVE_ON_WITHIN_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** GET on a fresh connection (never an idle keep-alive one). */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: HTTP, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** Minimal Chrome DevTools Protocol client over the debugging pipe. */
class Cdp {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly events: CdpMessage[] = [];
  private buffer = '';

  constructor(
    private readonly out: Writable,
    input: Readable,
  ) {
    input.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, end)) as CdpMessage;
        this.buffer = this.buffer.slice(end + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(`CDP: ${msg.error.message}`));
          else p?.resolve(msg.result ?? {});
        } else {
          this.events.push(msg);
          if (this.events.length > 1000) this.events.shift();
        }
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP ${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.out.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** Waits for an event (one that arrived since `since`, an index from mark()). */
  async event(method: string, sessionId: string, since: number, timeoutMs = 15_000): Promise<CdpMessage> {
    return waitFor(`CDP event ${method}`, () => this.events.slice(since).find((e) => e.method === method && e.sessionId === sessionId), timeoutMs);
  }

  mark(): number {
    return this.events.length;
  }
}

interface Ctx {
  snapd: FakeSnapd;
  chromium?: ChildProcess;
  profile?: string;
  cdp: Cdp;
  session: string;
}

const test = suite<Ctx>('starting page');

test.before(async (ctx) => {
  try {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup-test-env.sh (Debian package chromium)`);
    ctx.snapd = await FakeSnapd.create({ startLimit: { burst: 50, intervalMs: 10_000 } });
    await ctx.snapd.install();
    await ctx.snapd.set([`http.port=${HTTP}`]);
    await waitFor('immich through haproxy', async () => (await get('/api/server/ping')).status === 200);
  } catch (err) {
    // uvu does not report an exception thrown by a before hook; say what it was.
    process.stderr.write(`starting page: set-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    throw err;
  }
});

test.after(async (ctx) => {
  const c = ctx.chromium;
  if (c && c.exitCode === null && c.signalCode === null) {
    await ctx.cdp?.send('Browser.close', {}, undefined, 3000).catch(() => undefined);
    const gone = await Promise.race([new Promise<boolean>((r) => c.once('exit', () => r(true))), sleep(5000).then(() => false)]);
    // The whole process group: chromium's wrapper script, the browser and its zygote/renderers.
    if (!gone && c.pid) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  if (ctx.profile) rmSync(ctx.profile, { recursive: true, force: true });
  await ctx.snapd?.destroy();
});

async function text(ctx: Ctx, expression: string): Promise<string> {
  const r = await ctx.cdp.send('Runtime.evaluate', { expression, returnByValue: true }, ctx.session);
  return String((r.result as { value?: unknown } | undefined)?.value ?? '');
}

test('with the Immich server down, HAProxy answers 503 with the starting page', async ({ snapd }) => {
  await snapd.services.stop('immich-server');
  const r = await waitFor('the 503 page', async () => {
    const res = await get('/');
    return res.status === 503 ? res : undefined;
  });
  assert.match(r.body, '<h1>Immich is starting</h1>');
});

test('headless Chromium renders the message; screenshot saved', async (ctx) => {
  ctx.profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-extensions', '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
      `--user-data-dir=${ctx.profile}`, '--remote-debugging-pipe', '--window-size=1280,800',
    ],
    // fd 3: our commands to Chromium; fd 4: its answers and events. Own process group for cleanup.
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true },
  );
  ctx.chromium = child;
  const stderr: string[] = [];
  child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  ctx.cdp = new Cdp(child.stdio[3] as Writable, child.stdio[4] as Readable);
  const version = await ctx.cdp.send('Browser.getVersion', {}, undefined, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; chromium said: ${stderr.join('').slice(-500)}`);
  });
  const { targetId } = (await ctx.cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
  ctx.session = String((await ctx.cdp.send('Target.attachToTarget', { targetId, flatten: true })).sessionId);
  await ctx.cdp.send('Page.enable', {}, ctx.session);
  await ctx.cdp.send('Runtime.enable', {}, ctx.session);
  await ctx.cdp.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false }, ctx.session);

  const mark = ctx.cdp.mark();
  const nav = await ctx.cdp.send('Page.navigate', { url: `http://127.0.0.1:${HTTP}/` }, ctx.session);
  assert.not.ok(nav.errorText, String(nav.errorText));
  await ctx.cdp.event('Page.loadEventFired', ctx.session, mark);

  assert.is(await text(ctx, 'document.title'), 'Immich is starting');
  assert.is(await text(ctx, "document.querySelector('h1').textContent"), 'Immich is starting');
  const body = await text(ctx, 'document.body.innerText');
  assert.match(body, 'The Immich server is starting');
  assert.match(body, 'continue to Immich by itself');
  // Laid out as a visible card: the heading is on screen with a real size.
  const box = JSON.parse(await text(ctx, "JSON.stringify(document.querySelector('h1').getBoundingClientRect())")) as { width: number; height: number; top: number };
  assert.ok(box.width > 100 && box.height > 10 && box.top > 0 && box.top < 800, JSON.stringify(box));

  // After its first check the page says it is still starting (its script runs).
  await waitFor('the status line to update', async () => /Still starting \(checked \d+ times?\)/.test(await text(ctx, "document.getElementById('status').textContent")), 10_000);
  const shot = await ctx.cdp.send('Page.captureScreenshot', { format: 'png' }, ctx.session);
  const png = Buffer.from(String(shot.data), 'base64');
  assert.ok(png.subarray(1, 4).toString('latin1') === 'PNG' && png.length > 5000, 'a real PNG');
  mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
  writeFileSync(ARTIFACT, png);
  process.stderr.write(`  [starting page] ${String(version.product)}: screenshot ${ARTIFACT} (${png.length} bytes)\n`);
});

test('once the Immich server answers, the page moves on to the application by itself', async (ctx) => {
  const t0 = Date.now();
  await ctx.snapd.services.start('immich-server');
  const url = `http://127.0.0.1:${HTTP}/`;
  await waitFor('the application in place of the starting page', async () => (await text(ctx, 'document.body.innerText')).includes('immich-distribution test double'), MOVE_ON_WITHIN_MS);
  const took = Date.now() - t0;
  assert.is(await text(ctx, 'location.href'), url, 'same address: the page reloaded itself');
  assert.is(await text(ctx, 'document.title'), 'Immich');
  process.stderr.write(`  [starting page] moved on to Immich ${took} ms after the server was started\n`);
});

test.run();
