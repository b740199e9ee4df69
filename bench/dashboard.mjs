// bench/dashboard.mjs - the browser side of bench/dashboard.sh: headless
// Chromium (playwright-core from tests/browser/node_modules) against a live
// kvfleetd. Prints one JSON object on stdout; progress goes to stderr.
//
//   node bench/dashboard.mjs render <url> <clusters> <loads>
//     <loads> times, each in a fresh browser context (empty cache): the time
//     from navigation start until every one of the <clusters> cards is in
//     the DOM with its three nodes' roles and state "up" shown, taken inside
//     the page by a MutationObserver (performance.now() counts from the
//     navigation start); with the next painted frame, and when the first
//     GET /clusters(?detail=full) answer arrived. Bytes on the wire (CDP
//     Network.loadingFinished encodedDataLength, headers included) of the
//     first load, up to the render.
//
//   node bench/dashboard.mjs open <url> <clusters> <ready-file> <stop-file>
//     Keeps the page open (it polls every second) until <stop-file> exists,
//     after writing <ready-file> once the cards are shown; then reports the
//     polls seen in between (one GET /events each): API requests and bytes
//     per poll, 304s, and the page's main-thread time per poll (CDP
//     Performance.getMetrics).
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';

// playwright-core is installed for the browser test; resolve it from there.
const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [mode, url, clustersArg, a4, a5] = process.argv.slice(2);
const CLUSTERS = Number(clustersArg);
const NODES_PER_CLUSTER = 3;
if (!['render', 'open'].includes(mode) || !url || !(CLUSTERS > 0)) {
  console.error('usage: dashboard.mjs render <url> <clusters> <loads> | open <url> <clusters> <ready-file> <stop-file>');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('#', ...a);

/* Runs in the page before its own scripts: note the first moment the DOM
 * holds every card with every node's role and state "up". The check runs
 * after each batch of mutations (the page renders a poll in one pass). */
function watchCards({ clusters, perCluster }) {
  const complete = () => {
    const root = document.getElementById('clusters');
    if (!root || root.querySelectorAll('article.card').length !== clusters) return false;
    if (root.querySelectorAll('article.card li.node [data-test=role]').length !== clusters * perCluster) return false;
    const states = root.querySelectorAll('article.card li.node [data-test=state]');
    if (states.length !== clusters * perCluster) return false;
    for (const s of states) if (s.textContent !== 'up') return false;
    return true;
  };
  const obs = new MutationObserver(() => {
    if (window.__kvRendered !== undefined || !complete()) return;
    window.__kvRendered = performance.now();
    obs.disconnect();
    requestAnimationFrame(() => requestAnimationFrame(() => { window.__kvPainted = performance.now(); }));
  });
  obs.observe(document, { childList: true, subtree: true, characterData: true });
}

/* Bytes and statuses of every request of a page, from Chromium's network
 * log (a revalidated 304 reaches the page as the cached 200). */
async function netLog(context, page) {
  const cdp = await context.newCDPSession(page);
  const reqs = new Map();
  const get = (id) => { let r = reqs.get(id); if (!r) reqs.set(id, (r = { id, url: '', status: 0, bytes: 0, t: 0, done: false })); return r; };
  cdp.on('Network.requestWillBeSent', (e) => { const r = get(e.requestId); r.url = e.request.url; r.t = Date.now(); });
  cdp.on('Network.responseReceived', (e) => { const r = get(e.requestId); if (!r.status) r.status = e.response.status; });
  cdp.on('Network.responseReceivedExtraInfo', (e) => { get(e.requestId).status = e.statusCode; });
  cdp.on('Network.loadingFinished', (e) => { const r = get(e.requestId); r.bytes = e.encodedDataLength; r.done = true; r.tEnd = Date.now(); });
  await cdp.send('Network.enable');
  await cdp.send('Performance.enable');
  return { cdp, reqs };
}

const isApi = (u) => u.includes('/api/v1/');
// Each poll asks for the events once, whatever else it asks (older pages
// fetched every cluster separately): that request counts the polls.
const isPoll = (u) => new URL(u).pathname === '/api/v1/events';
const isClusters = (u) => new URL(u).pathname === '/api/v1/clusters';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
  headless: true,
});
let result;
try {
  if (mode === 'render') {
    const loads = Number(a4) || 10;
    const runs = [];
    let first = null;
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript(watchCards, { clusters: CLUSTERS, perCluster: NODES_PER_CLUSTER });
      const page = await context.newPage();
      const { reqs } = await netLog(context, page);
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(() => window.__kvPainted !== undefined, null, { timeout: 60000, polling: 50 });
      const tRender = Date.now();
      const m = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const poll = performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === '/api/v1/clusters');
        return {
          dom_ms: window.__kvRendered, paint_ms: window.__kvPainted,
          html_ms: nav ? nav.responseEnd : null,
          dcl_ms: nav ? nav.domContentLoadedEventEnd : null,
          api_start_ms: poll ? poll.startTime : null, api_end_ms: poll ? poll.responseEnd : null,
        };
      });
      runs.push(m);
      if (i === 0) {
        // Every request sent up to the render: the page, its modules and
        // the first poll (the next poll starts a second later).
        await sleep(300);
        const done = [...reqs.values()].filter((r) => r.done && r.t <= tRender);
        const api = done.filter((r) => isApi(r.url));
        const firstList = done.filter((r) => isClusters(r.url))[0];
        first = {
          requests: done.length,
          bytes: done.reduce((s, r) => s + r.bytes, 0),
          static_bytes: done.filter((r) => !isApi(r.url)).reduce((s, r) => s + r.bytes, 0),
          api_requests: api.length,
          api_bytes: api.reduce((s, r) => s + r.bytes, 0),
          clusters_bytes: firstList ? firstList.bytes : null,
        };
      }
      log(`load ${i + 1}/${loads}: cards in the DOM ${m.dom_ms.toFixed(0)} ms, painted ${m.paint_ms.toFixed(0)} ms (first GET /clusters answered ${m.api_end_ms?.toFixed(0)} ms)`);
      await context.close();
    }
    result = { mode, clusters: CLUSTERS, runs, first_load: first };
  } else {
    const [readyFile, stopFile] = [a4, a5];
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(watchCards, { clusters: CLUSTERS, perCluster: NODES_PER_CLUSTER });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const { cdp, reqs } = await netLog(context, page);
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__kvPainted !== undefined, null, { timeout: 60000, polling: 100 });
    const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
    const m0 = await metrics();
    const t0 = Date.now();
    writeFileSync(readyFile, `${t0}\n`);
    const deadline = t0 + 900000;
    while (!existsSync(stopFile) && Date.now() < deadline) await sleep(200);
    const t1 = Date.now();
    const m1 = await metrics();
    const win = [...reqs.values()].filter((r) => r.t >= t0 && r.t < t1 && r.done);
    const api = win.filter((r) => isApi(r.url));
    const polls = api.filter((r) => isPoll(r.url));
    const n = polls.length || 1;
    const by = {};
    for (const r of api) {
      const k = new URL(r.url).pathname.replace(/^(\/api\/v1\/clusters\/)[^/]+/, '$1{name}');
      by[k] = by[k] || { requests: 0, bytes: 0, s304: 0 };
      by[k].requests++;
      by[k].bytes += r.bytes;
      if (r.status === 304) by[k].s304++;
    }
    result = {
      mode, clusters: CLUSTERS, seconds: (t1 - t0) / 1000, polls: polls.length,
      requests: win.length, api_requests: api.length,
      requests_per_poll: api.length / n, bytes_per_poll: Math.round(api.reduce((s, r) => s + r.bytes, 0) / n),
      s304: api.filter((r) => r.status === 304).length, by_path: by,
      // TaskDuration: the renderer's main thread busy (seconds), all work.
      main_thread_ms_per_poll: Math.round(((m1.TaskDuration - m0.TaskDuration) * 1000) / n),
      script_ms_per_poll: Math.round(((m1.ScriptDuration - m0.ScriptDuration) * 1000) / n),
      layout_ms_per_poll: Math.round(((m1.LayoutDuration - m0.LayoutDuration + m1.RecalcStyleDuration - m0.RecalcStyleDuration) * 1000) / n),
      page_errors: errors,
    };
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
