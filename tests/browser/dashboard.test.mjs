// dashboard.test.mjs - the dashboard in headless Chromium against a live
// fleet started by tests/e2e/test_dashboard.sh (which sets the DASH_* vars).
// Prints "ok - step" / "not ok - step" lines, saves a screenshot per step in
// DASH_SHOTS, exits 0 when every step passed, 1 at the first failure.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const CTL = env('DASH_CTL_URL');
const TOKEN = env('DASH_TOKEN');
const CLUSTER = env('DASH_CLUSTER', 'dash');
const SHOTS = env('DASH_SHOTS', 'build/browser');
const TMP = env('DASH_TMP');
// "a:port:pid b:port:pid c:port:pid"
const NODES = Object.fromEntries(env('DASH_NODES').split(/\s+/).map((s) => {
  const [name, port, pid] = s.split(':');
  return [name, { port: Number(port), pid: Number(pid) }];
}));
mkdirSync(SHOTS, { recursive: true });
// Screenshots of an earlier run would mix with this run's numbering.
for (const f of readdirSync(SHOTS)) if (/^\d\d-.*\.png$/.test(f)) rmSync(join(SHOTS, f));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let page, browser, stepNo = 0;
const pageErrors = [];

async function shot(name, opts = {}) {
  const path = join(SHOTS, `${String(++stepNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, ...opts });
  return path;
}

/* until(what, fn, ms): poll fn (async, truthy = done) every 100 ms. */
async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      if ((last = await fn())) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(100);
  }
}

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`not ok - ${name}`);
    console.log(`#   ${String(e.stack || e).split('\n').slice(0, 4).join('\n#   ')}`);
    try { await shot(`FAILED-${name.replace(/\W+/g, '-').slice(0, 40)}`, { fullPage: true }); } catch { /* page gone */ }
    if (pageErrors.length) console.log(`#   page errors: ${pageErrors.join(' | ')}`);
    await browser?.close();
    process.exit(1);
  }
}

// The API, straight from node (the fleet's side of a race, checks).
async function api(method, path, body) {
  const res = await fetch(`${CTL}/api/v1${path}`, {
    method, body: body && JSON.stringify(body),
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

// Locators into the cluster card.
const card = () => page.locator(`article.card[data-cluster="${CLUSTER}"]`);
const tile = (n) => card().locator(`li.node[data-node="${n}"]`);
const text = async (loc) => ((await loc.count()) ? (await loc.first().textContent()).trim() : null);
const roleOf = (n) => text(tile(n).locator('[data-test=role]'));
const stateOf = (n) => text(tile(n).locator('[data-test=state]'));
const masterTile = async () => card().locator('li.node').first().getAttribute('data-node');
const dialog = () => page.locator('#dlg');

async function confirmDialogOk() {
  await dialog().locator('#dlg-ok').click();
}

/* The token prompt appears on the first mutation's 401. */
async function answerTokenPromptIfAsked() {
  const t = page.locator('#token-dlg');
  if (await t.isVisible()) {
    await page.getByLabel(/Bearer token/).fill(TOKEN);
    await page.keyboard.press('Enter');
    await until('token dialog closed', async () => !(await t.isVisible()), 3000);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------

browser = await chromium.launch({ executablePath: env('CHROMIUM', '/usr/bin/chromium'), args: ['--no-sandbox'], headless: true });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
page = await context.newPage();
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => { if (m.type() === 'error' && !/status of (401|404|409)/.test(m.text())) pageErrors.push(`console: ${m.text()}`); });

// kvfleetd serves the dashboard (web/ embedded in the binary) on the API port.
const base = `${CTL}/`;

// Every API response the page gets, to check the 1 s polling and the 304s.
const apiLog = [];
page.on('response', (r) => {
  const u = new URL(r.url());
  if (u.pathname.startsWith('/api/v1/')) {
    apiLog.push({ t: Date.now(), method: r.request().method(), path: u.pathname + u.search, status: r.status(), etag: r.headers().etag || null });
  }
});
// A revalidated response reaches the page (and Playwright) as the cached 200;
// only the raw status in Chromium's network log says the server sent 304.
const rawStatus = { urls: new Map(), s304: [] };
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');
cdp.on('Network.requestWillBeSent', (e) => rawStatus.urls.set(e.requestId, e.request.url));
cdp.on('Network.responseReceivedExtraInfo', (e) => { if (e.statusCode === 304) rawStatus.s304.push({ id: e.requestId, t: Date.now() }); });
const api304 = (from) => rawStatus.s304.filter((x) => x.t >= from && (rawStatus.urls.get(x.id) || '').includes('/api/v1/')).length;

await step('kvfleetd serves the page at / and the page shows the cluster card', async () => {
  const res = await page.goto(base);
  if (res.status() !== 200 || !(await res.text()).includes('<title>kvfleet dashboard</title>')) throw new Error(`GET / answered ${res.status()}`);
  await card().waitFor({ timeout: 10000 });
  await until('"live" status', async () => (await text(page.locator('#conn-state'))) === 'live');
});

await step('cards show the right roles: a master, b and c replicas, all up', async () => {
  await until('roles', async () => (await roleOf('a')) === 'master' && (await roleOf('b')) === 'replica' && (await roleOf('c')) === 'replica');
  for (const n of ['a', 'b', 'c']) await until(`${n} up`, async () => (await stateOf(n)) === 'up');
  await until('health healthy', async () => (await text(card().locator('[data-test=health]'))).includes('healthy'));
  await until('replica link shown', async () => (await text(tile('b').locator('[data-test=link]'))).startsWith('up'));
  if ((await masterTile()) !== 'a') throw new Error('the master is not the first tile');
  await shot('roles');
});

await step('polls about once a second with three requests (clusters in one detail=full call); 304s with ETags', async () => {
  const from = Date.now();
  await sleep(4000);
  const win = apiLog.filter((r) => r.t >= from && r.method === 'GET');
  const polls = win.filter((r) => r.path === '/api/v1/clusters?detail=full');
  if (polls.length < 3 || polls.length > 8) throw new Error(`${polls.length} GETs of /clusters?detail=full in 4 s`);
  // No request per cluster any more: the cards come from the one list call.
  const perCluster = win.filter((r) => r.path.startsWith('/api/v1/clusters/'));
  if (perCluster.length) throw new Error(`per-cluster requests while polling: ${perCluster.map((r) => r.path).join(', ')}`);
  const paths = new Set(win.map((r) => r.path.replace(/\?.*$/, '')));
  if (paths.size !== 3 || win.length > polls.length * 3 + 3) throw new Error(`${win.length} GETs over ${polls.length} polls: ${[...paths].join(', ')}`);
  const all = apiLog.filter((r) => r.t >= from).length;
  const withEtag = apiLog.filter((r) => r.t >= from && r.etag).length;
  const notModified = api304(from);
  console.log(`#   ${polls.length} polls in 4 s, ${win.length} GETs (${[...paths].join(', ')}); of ${all} API responses ${withEtag} had an ETag and ${notModified} were 304 Not Modified`);
  // Events do not change while nothing happens: once kvfleetd sends ETags,
  // the browser's conditional GETs must come back 304.
  if (withEtag > 0 && notModified === 0) throw new Error('ETags are sent but no 304 was seen');
});

await step('switchover from the page (dialog, plan, token prompt) swaps master and replica', async () => {
  await page.getByRole('button', { name: `Switchover of ${CLUSTER}` }).click();
  await until('dialog open', () => dialog().isVisible(), 3000);
  await dialog().getByLabel('New master').selectOption('b');
  await until('dry-run plan shown', async () => (await text(dialog().locator('[data-test=plan]')) || '').includes('Dry run'));
  if (!(await text(dialog().locator('[data-test=plan] tbody'))).includes('b')) throw new Error('plan lists no candidate b');
  await shot('switchover-dialog');
  await confirmDialogOk();
  // First mutation: kvfleetd answers 401 and the page asks for the token.
  await until('token prompt', () => page.locator('#token-dlg').isVisible(), 5000);
  await shot('token-prompt');
  await answerTokenPromptIfAsked();
  await until('switchover dialog closed', async () => !(await dialog().isVisible()), 15000);
  await until('b master, a replica', async () => (await roleOf('b')) === 'master' && (await roleOf('a')) === 'replica' && (await masterTile()) === 'b', 10000);
  await until('last failover shows the switchover', async () => {
    const t = await text(card().locator('[data-test=last-failover]'));
    return /Last switchover/i.test(t) && t.includes('a → b') && /\d+ ms/.test(t) && t;
  });
  const stored = await page.evaluate(() => [sessionStorage.getItem('kvfleet.apiToken'), Object.keys(localStorage).length]);
  if (stored[0] !== TOKEN || stored[1] !== 0) throw new Error(`token kept as ${JSON.stringify(stored)}`);
  await until('a linked to b again', async () => (await stateOf('a')) === 'up' && (await text(tile('a').locator('[data-test=link]'))).startsWith('up'), 10000);
  await shot('switchover-done');
});

await step('kill -9 of master b: its card turns red/"down", then a new master appears', async () => {
  const t0 = Date.now();
  process.kill(NODES.b.pid, 'SIGKILL');
  await until('b down', async () => (await stateOf('b')) === 'down', 15000);
  const seen = Date.now() - t0;
  const look = await tile('b').evaluate((el) => {
    const cs = getComputedStyle(el);
    return { cls: el.className, border: cs.borderTopColor, bg: cs.backgroundColor };
  });
  // --down is #cf222e in the light scheme; the state is also written out.
  if (!look.cls.includes('state-down') || look.border !== 'rgb(207, 34, 46)') throw new Error(`b looks ${JSON.stringify(look)}`);
  console.log(`#   b shown down ${seen} ms after the kill`);
  await shot('killed-master-down');
  const nm = await until('a new master (a or c), up', async () => {
    const m = await masterTile();
    return m !== 'b' && (await roleOf(m)) === 'master' && (await stateOf(m)) === 'up' && m;
  }, 20000);
  await until('last failover is the automatic one', async () => {
    const t = await text(card().locator('[data-test=last-failover]'));
    return /Last automatic failover/.test(t) && t.includes(`b → ${await masterTile()}`);
  });
  console.log(`#   new master ${nm}, ${Date.now() - t0} ms after the kill`);
  await shot('new-master');
});

await step('events timeline: newest first, filtered by cluster', async () => {
  await page.locator('#event-filter').selectOption(CLUSTER);
  const items = await until('filtered events', async () => {
    const rows = await page.locator('#events li.ev').evaluateAll((els) => els.map((e) => [e.querySelector('time').getAttribute('datetime'), e.querySelector('.ev-where').textContent]));
    return rows.length > 0 && rows.every((r) => r[1].startsWith(CLUSTER)) && rows;
  });
  const times = items.map((r) => Date.parse(r[0]));
  // Journal order (the API's) is newest first; an event's time is taken by the
  // thread that emitted it, so two events from different threads may be a few
  // milliseconds out of order. More than that would be a real ordering bug.
  const SKEW_MS = 250;
  if (times.some((t, i) => i > 0 && t > times[i - 1] + SKEW_MS)) throw new Error(`events not newest first: ${items.map((r) => r[0]).join(' ')}`);
  if (!(await text(page.locator('#events'))).includes('node.down') && !(await text(page.locator('#events'))).match(/fail/)) throw new Error('no down/failover event in the timeline');
  await page.locator('#event-filter').selectOption('');
});

/* Restart a killed node with the script test_dashboard.sh wrote (it execs
 * the agent, so the pid is the agent's); the shell script stops it at the end. */
async function restart(n) {
  const log = openSync(join(TMP, `restart-${n}.log`), 'a');
  const child = spawn('bash', [join(TMP, `restart-${n}.sh`)], { detached: true, stdio: ['ignore', log, log] });
  appendFileSync(join(TMP, 'restarted.pids'), `${child.pid}\n`);
  child.unref();
  NODES[n].pid = child.pid;
  await until(`${n} up as a replica`, async () => (await roleOf(n)) === 'replica' && (await stateOf(n)) === 'up', 20000);
}

await step('restart b: it rejoins as a replica', () => restart('b'));

await step('auto-failover off: a killed master stays red/"down" as master; Failover… in the page promotes a replica', async () => {
  const r = await api('PATCH', `/clusters/${CLUSTER}`, { settings: { auto_failover: false } });
  if (r.status !== 200) throw new Error(`PATCH settings: ${r.status}`);
  await until('card says auto-failover off', async () => (await text(card().locator('.card-head'))).includes('auto-failover off'));
  const old = await masterTile();
  process.kill(NODES[old].pid, 'SIGKILL');
  await until(`${old} down in the master slot`, async () => (await masterTile()) === old && (await roleOf(old)) === 'master' && (await stateOf(old)) === 'down', 15000);
  const border = await tile(old).evaluate((el) => getComputedStyle(el).borderTopColor);
  if (border !== 'rgb(207, 34, 46)') throw new Error(`master tile border ${border}`);
  await until('cluster failing', async () => (await text(card().locator('[data-test=health]'))) === 'failing', 5000);
  await shot('master-down-no-auto-failover');
  await page.getByRole('button', { name: `Failover of ${CLUSTER}` }).click();
  await until('plan says the master failed', async () => /fail/i.test(await text(dialog().locator('[data-test=plan]')) || ''), 5000);
  await shot('failover-dialog');
  await confirmDialogOk();
  await until('failover dialog closed', async () => !(await dialog().isVisible()), 15000);
  const nm = await until('a new master', async () => { const m = await masterTile(); return m !== old && (await roleOf(m)) === 'master' && (await stateOf(m)) === 'up' && m; }, 10000);
  await until('last failover is the manual one', async () => /Last manual failover/.test(await text(card().locator('[data-test=last-failover]'))));
  console.log(`#   manual failover ${old} -> ${nm}`);
  await shot('manual-failover-done');
  await restart(old);
  await api('PATCH', `/clusters/${CLUSTER}`, { settings: { auto_failover: true } });
});

await step('maintenance on and off for c (PATCH node, confirmed)', async () => {
  await tile('c').getByRole('button', { name: /maintenance/i }).click();
  await until('dialog', () => dialog().isVisible(), 3000);
  await confirmDialogOk();
  await until('maintenance badge', async () => (await tile('c').locator('[data-test=maintenance]').count()) === 1, 5000);
  await tile('c').getByRole('button', { name: /End maintenance/ }).click();
  await confirmDialogOk();
  await until('badge gone', async () => (await tile('c').locator('[data-test=maintenance]').count()) === 0, 5000);
});

await step('API error shown readably: registering a duplicate node name (409)', async () => {
  await page.getByRole('button', { name: 'Register node…' }).click();
  await dialog().getByLabel('Host').fill('127.0.0.1');
  await dialog().getByLabel('Port').fill('1');
  await dialog().getByLabel('Name').fill('a');
  await confirmDialogOk();
  const msg = await until('error in the dialog', async () => (await dialog().locator('#dlg-error').isVisible()) && text(dialog().locator('#dlg-error')), 5000);
  if (!/^409 conflict: .*\ba\b/.test(msg)) throw new Error(`dialog says ${JSON.stringify(msg)}`);
  const notice = await text(page.locator('#notices [role=alert]'));
  if (!notice || !notice.includes('409')) throw new Error(`page notice: ${notice}`);
  console.log(`#   shown: ${msg}`);
  await shot('api-error-duplicate-node');
  await dialog().getByRole('button', { name: 'Cancel' }).click();
});

await step('API error: removing a replica removed meanwhile (404), then adding it back', async () => {
  await tile('c').getByRole('button', { name: /Remove replica c/ }).click();
  await until('dialog', () => dialog().isVisible(), 3000);
  const r = await api('DELETE', `/clusters/${CLUSTER}/replicas/c`); // someone else was faster
  if (r.status !== 200) throw new Error(`API remove: ${r.status}`);
  await confirmDialogOk();
  const msg = await until('404 in the dialog', async () => (await dialog().locator('#dlg-error').isVisible()) && text(dialog().locator('#dlg-error')), 5000);
  if (!/^404 not_found: node 'c' is not a member/.test(msg)) throw new Error(`dialog says ${JSON.stringify(msg)}`);
  console.log(`#   shown: ${msg}`);
  await shot('api-error-remove');
  await dialog().getByRole('button', { name: 'Cancel' }).click();
  await until('c no longer in the card', async () => (await tile('c').count()) === 0, 5000);
  await page.getByRole('button', { name: `Add a replica to ${CLUSTER}` }).click();
  await dialog().getByLabel('Node').selectOption('c');
  await confirmDialogOk();
  await until('c a replica again', async () => (await roleOf('c')) === 'replica', 5000);
});

await step('keyboard: controls reachable by Tab with a visible focus ring', async () => {
  await page.locator('body').click({ position: { x: 5, y: 880 } });
  const seen = new Set();
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      const cs = getComputedStyle(el);
      const name = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent.trim();
      return { tag: el.tagName, name, outline: cs.outlineStyle, width: cs.outlineWidth };
    });
    if (f.tag !== 'BODY' && (f.outline === 'none' || f.width === '0px')) throw new Error(`no focus ring on ${JSON.stringify(f)}`);
    if (f.tag !== 'BODY' && !f.name) throw new Error(`unlabelled control ${JSON.stringify(f)}`);
    seen.add(f.name);
  }
  for (const want of [`Switchover of ${CLUSTER}`, 'Register node…']) if (![...seen].some((n) => n.includes(want))) throw new Error(`Tab never reached "${want}": ${[...seen].join(', ')}`);
});

await step('phone width (390 px): no horizontal scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(1200);
  const w = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  if (w[0] > w[1]) throw new Error(`scrollWidth ${w[0]} > ${w[1]}`);
  const box = await tile('a').boundingBox();
  if (!box || box.x < 0 || box.x + box.width > 390) throw new Error(`tile a at ${JSON.stringify(box)}`);
  await shot('phone-390');
  await page.locator('#events').scrollIntoViewIfNeeded();
  await shot('phone-390-events');
});

await step('final 1280 px view: healthy again (also docs/dashboard.png)', async () => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await until('healthy, three nodes up', async () => (await text(card().locator('[data-test=health]'))).includes('healthy') &&
    (await stateOf('a')) === 'up' && (await stateOf('b')) === 'up' && (await stateOf('c')) === 'up', 20000);
  await page.locator('#notices').evaluate((n) => n.replaceChildren()); // no stale toasts in the picture
  await sleep(1500);
  const p = await shot('final-1280');
  if (process.env.DASH_DOC_SHOT) {
    mkdirSync(dirname(process.env.DASH_DOC_SHOT), { recursive: true });
    copyFileSync(p, process.env.DASH_DOC_SHOT);
  }
});

await step('no uncaught errors in the page', async () => {
  if (pageErrors.length) throw new Error(pageErrors.join(' | '));
});

await browser.close();
process.exit(0);
