// app.js - the kvfleet dashboard: polls kvfleetd about once a second and
// renders clusters, nodes and events; operator actions go through dialogs.
import { request, get, enc, token, ApiError } from './js/api.js';
import { h, morph, morphChildren } from './js/dom.js';
import { clusterCard, eventItem, spareNode, fmtBytes } from './js/render.js';
import { confirmDialog, field } from './js/dialog.js';

const POLL_MS = 1000;        // "within a second of a change"
const HIDDEN_POLL_MS = 5000; // a background tab needs no live view
const HISTORY = 60;          // sparkline samples kept per node (about a minute)
const EVENTS = 50;

const $ = (id) => document.getElementById(id);
const state = {
  clusters: [],          // GET /clusters?detail=full: detailed views, each with last_failover
  nodes: [],
  events: [],
  history: new Map(),    // "cluster/node" -> {bytes: [], secs: []}
  filter: '',
  lastOk: 0,
  error: null,
};

/* ---------------------------------------------------------------- notices */

// Errors stay until dismissed (role=alert is announced); successes fade.
function notify(text, kind = 'error') {
  const close = h('button', { type: 'button', class: 'link-btn', 'aria-label': 'Dismiss message' }, '✕');
  const item = h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'notice-text' }, text), close);
  close.onclick = () => item.remove();
  $('notices').prepend(item);
  if (kind !== 'error') setTimeout(() => item.remove(), 6000);
  while ($('notices').children.length > 5) $('notices').lastChild.remove();
}
const errorText = (what, e) => `${what} failed: ${e instanceof ApiError ? e.describe() : e.message || e}`;

/* ------------------------------------------------------------------ auth */

let tokenPrompt = null; // one prompt at a time, shared by every caller

function askToken(why) {
  if (tokenPrompt) return tokenPrompt;
  const d = $('token-dlg');
  const input = $('token-input');
  $('token-why').textContent = why || '';
  input.value = token.get();
  tokenPrompt = new Promise((resolve) => {
    const finish = (ok) => {
      d.removeEventListener('close', onClose);
      tokenPrompt = null;
      resolve(ok);
    };
    const onClose = () => {
      if (d.returnValue === 'forget') token.set('');
      const ok = d.returnValue === 'save' && input.value.trim() !== '';
      if (ok) token.set(input.value.trim());
      finish(ok);
    };
    d.returnValue = '';
    d.addEventListener('close', onClose);
    d.showModal();
  });
  return tokenPrompt;
}

/* A mutation: asks for the token when kvfleetd answers 401, then retries. */
async function mutate(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(method, path, body);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401 || attempt >= 2) throw e;
      if (!(await askToken(`kvfleetd answered 401: ${e.message}.`))) throw e;
    }
  }
}

/* --------------------------------------------------------------- polling */

function remember(cluster, m) {
  const key = `${cluster}/${m.node}`;
  let hist = state.history.get(key);
  if (!hist) state.history.set(key, (hist = { bytes: [], secs: [] }));
  hist.bytes.push(m.lag_bytes ?? null);
  hist.secs.push(m.lag_seconds ?? null);
  if (hist.bytes.length > HISTORY) { hist.bytes.shift(); hist.secs.shift(); }
  return key;
}

// One poll is three requests whatever the size of the fleet: every cluster's
// detailed view with its last failover comes in one answer (detail=full),
// instead of a GET per cluster and another for its failovers.
async function fetchAll() {
  const q = `?limit=${EVENTS}${state.filter ? `&cluster=${enc(state.filter)}` : ''}`;
  const [list, nodes, events] = await Promise.all([
    get('/clusters?detail=full'),
    get('/nodes?cluster='),          // only the nodes outside any cluster
    get(`/events${q}`),
  ]);
  state.clusters = list.clusters;
  state.nodes = nodes.nodes;
  state.events = events.events;
  const seen = new Set();
  for (const c of state.clusters) for (const r of c.replicas) seen.add(remember(c.name, r));
  for (const k of state.history.keys()) if (!seen.has(k)) state.history.delete(k); // removed or promoted
}

let timer = 0, inFlight = null, again = false;

async function poll() {
  if (inFlight) { again = true; return inFlight; } // coalesce "poll now" requests
  clearTimeout(timer);
  const started = performance.now();
  inFlight = (async () => {
    try {
      await fetchAll();
      state.lastOk = Date.now();
      if (state.error) notify('Connection to kvfleetd restored.', 'ok');
      state.error = null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) askToken('Reading the fleet needs the API token (api-auth-reads is on).').then((ok) => ok && poll());
      state.error = e;
    }
    render();
  })();
  await inFlight;
  inFlight = null;
  if (again) { again = false; return poll(); }
  const period = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
  timer = setTimeout(poll, Math.max(100, period - (performance.now() - started)));
}

/* ---------------------------------------------------------------- render */

function render() {
  const conn = $('conn');
  const live = !state.error;
  conn.className = `conn ${live ? 'conn-live' : 'conn-down'}`;
  // Only the state is in the live region; the clock ticks in its own element
  // so a screen reader is not told the time every second.
  const connText = live ? 'live' : `offline: ${state.error.describe ? state.error.describe() : state.error}`;
  if ($('conn-state').textContent !== connText) $('conn-state').textContent = connText;
  $('conn-time').textContent = state.lastOk ? `updated ${new Date(state.lastOk).toLocaleTimeString([], { hour12: false })}` : '';
  $('token-btn').textContent = token.get() ? 'API token (set)' : 'API token';

  const hist = (c) => (n) => state.history.get(`${c}/${n}`) || { bytes: [], secs: [] };
  const cards = h('div', {}, state.clusters.length
    ? state.clusters.map((c) => clusterCard(c, c.last_failover, hist(c.name)))
    : h('p', { class: 'empty', 'data-key': 'empty' }, state.lastOk ? 'No clusters yet. Register nodes, then create a cluster with POST /api/v1/clusters.' : 'Loading…'));
  morphChildren($('clusters'), cards);

  const spare = state.nodes.filter((n) => !n.cluster);
  $('spare').hidden = spare.length === 0;
  morphChildren($('spare-list'), h('ul', {}, spare.map(spareNode)));

  // Rebuild the filter's options only when the set of clusters changes, so
  // an open <select> is not disturbed.
  const sel = $('event-filter');
  const names = state.clusters.map((c) => c.name);
  if (sel.dataset.names !== names.join('\n')) {
    sel.dataset.names = names.join('\n');
    sel.replaceChildren(h('option', { value: '' }, 'all clusters'), ...names.map((n) => h('option', { value: n }, n)));
    sel.value = names.includes(state.filter) || !state.filter ? state.filter : '';
  }
  morphChildren($('events'), h('ol', {}, state.events.length
    ? state.events.map(eventItem)
    : h('li', { class: 'muted', 'data-key': 'none' }, 'No events.')));
}

/* --------------------------------------------------------------- actions */

const cluster = (name) => state.clusters.find((c) => c.name === name);

async function act(title, fn) {
  try {
    const msg = await fn();
    if (msg) notify(msg, 'ok');
  } catch (e) {
    notify(errorText(title, e));
    throw e;
  } finally {
    poll();
  }
}

/* The planner's dry run, rendered inside the switchover/failover dialogs. */
async function planView(name, kind, candidate, force) {
  const q = new URLSearchParams();
  if (candidate) q.set('candidate', candidate);
  if (force) q.set('force', 'true');
  try {
    const p = await get(`/clusters/${enc(name)}/failover/plan?${q}`);
    const busy = p.operation_in_progress ? ' An operation is in progress.' : '';
    // The planner speaks of failovers; for a switchover only its verdict on
    // the master and its ranking of the candidates matter.
    const head = kind === 'switchover'
      ? h('p', {}, h('strong', {}, 'Dry run: '), `master ${p.master || '—'}: ${p.master_verdict}.${busy}`)
      : h('p', {}, h('strong', {}, 'Dry run: '), `${p.verdict}.${p.failover_blocked ? ' A failover is blocked now.' : ''}${busy}`);
    return h('div', { class: 'plan', 'data-test': 'plan' }, head,
      h('table', {},
        h('caption', {}, 'Candidates, best first'),
        h('thead', {}, h('tr', {}, ['Node', 'Eligible', 'Rank', 'Lag', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, p.candidates.map((c) => h('tr', { class: c.node === candidate ? 'chosen' : null },
          h('td', {}, c.node, c.node === candidate ? ' (chosen)' : ''), h('td', {}, c.eligible ? 'yes' : 'no'), h('td', {}, c.rank ?? '—'),
          h('td', {}, fmtBytes(c.lag_bytes)), h('td', {}, c.reason))))),
      kind === 'switchover' ? null : p.actions.length
        ? h('ol', { 'aria-label': 'Actions the planner would take now' }, p.actions.map((a) => h('li', {}, `${a.action} ${a.node}${a.target ? ` → ${a.target}` : ''}: ${a.reason}`)))
        : h('p', { class: 'muted' }, 'No automatic action is due now.'));
  } catch (e) {
    return h('p', { class: 'error' }, errorText('Loading the plan', e));
  }
}

function candidateSelect(c) {
  return h('select', { name: 'candidate' },
    h('option', { value: '' }, 'best candidate (planner decides)'),
    c.replicas.map((r) => h('option', { value: r.node }, `${r.node} (${r.state}, lag ${fmtBytes(r.lag_bytes)})`)));
}

async function promoteDialog(name, kind) {
  const c = cluster(name);
  if (!c) return;
  const sel = candidateSelect(c);
  const force = h('input', { type: 'checkbox', name: 'force' });
  const planBox = h('div', { class: 'plan-box', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading the plan…'));
  const refresh = async () => planBox.replaceChildren(await planView(name, kind, sel.value, kind === 'failover' && force.checked));
  sel.onchange = refresh;
  force.onchange = refresh;
  refresh();
  const body = kind === 'switchover'
    ? [h('p', {}, `Planned switchover of ${name}: writes pause while the candidate catches up with master ${c.master ? c.master.node : '—'}, then it is promoted and the old master follows it. Nothing is changed if it cannot catch up in time.`),
       field('New master', sel), planBox]
    : [h('p', { class: 'warn-text' }, `Failover of ${name}: promotes a replica without waiting for the master. Refused while the master is up unless forced; forcing may lose writes the replica has not received.`),
       field('New master', sel), h('div', { class: 'field check' }, h('label', {}, force, ' Force (the master has not failed)')), planBox];
  await confirmDialog({
    title: kind === 'switchover' ? `Switchover of ${name}` : `Failover of ${name}`,
    body,
    ok: kind === 'switchover' ? 'Run switchover' : 'Run failover',
    danger: kind === 'failover',
    onConfirm: () => act(`${kind} of ${name}`, async () => {
      const req = {};
      if (sel.value) req.candidate = sel.value;
      if (kind === 'failover' && force.checked) req.force = true;
      const { status, data } = await mutate('POST', `/clusters/${enc(name)}/${kind}`, req);
      if (status === 202) return `${kind} of ${name} scheduled.`;
      return `${kind} of ${name}: ${data.old_master} → ${data.new_master}, ${data.status} in ${data.duration_ms ?? '?'} ms.`;
    }),
  });
}

async function maintenanceDialog(name, node, on) {
  await confirmDialog({
    title: on ? `Put ${node} in maintenance?` : `End maintenance of ${node}?`,
    body: h('p', {}, on
      ? `While in maintenance the reconciler leaves ${node} alone and it is never promoted.`
      : `${node} goes back under the controller's management.`),
    ok: on ? 'Maintenance on' : 'Maintenance off',
    onConfirm: () => act(`Maintenance of ${node}`, async () => {
      await mutate('PATCH', `/nodes/${enc(node)}`, { maintenance: on });
      return `${node}: maintenance ${on ? 'on' : 'off'}.`;
    }),
  });
}

async function removeDialog(name, node) {
  await confirmDialog({
    title: `Remove ${node} from ${name}?`,
    body: h('p', {}, `${node} is sent REPLICAOF NO ONE and becomes a stand-alone master; it stays registered.`),
    ok: 'Remove replica',
    danger: true,
    onConfirm: () => act(`Removing ${node} from ${name}`, async () => {
      await mutate('DELETE', `/clusters/${enc(name)}/replicas/${enc(node)}`);
      return `${node} removed from ${name}.`;
    }),
  });
}

async function addReplicaDialog(name) {
  const spare = state.nodes.filter((n) => !n.cluster);
  const sel = h('select', { name: 'node', required: true },
    spare.map((n) => h('option', { value: n.name }, `${n.name} (${n.host}:${n.port})`)));
  await confirmDialog({
    title: `Add a replica to ${name}`,
    body: spare.length
      ? [h('p', {}, 'The node is sent REPLICAOF the master at once (a full sync may follow).'), field('Node', sel)]
      : h('p', {}, 'Every registered node is already in a cluster: register a node first.'),
    ok: 'Add replica',
    onConfirm: () => act(`Adding a replica to ${name}`, async () => {
      if (!sel.value) throw new Error('no node to add');
      await mutate('POST', `/clusters/${enc(name)}/replicas`, { node: sel.value });
      return `${sel.value} added to ${name}.`;
    }),
  });
}

async function registerDialog() {
  const host = h('input', { name: 'host', required: true, placeholder: '10.0.0.4', autocomplete: 'off' });
  const port = h('input', { name: 'port', type: 'number', min: 1, max: 65535, required: true, value: 6379 });
  const name = h('input', { name: 'name', placeholder: 'host:port when empty', autocomplete: 'off' });
  const prio = h('input', { name: 'priority', type: 'number', min: 0, placeholder: '100' });
  await confirmDialog({
    title: 'Register a node',
    body: [field('Host', host), field('Port', port), field('Name', name, 'optional'),
      field('Priority', prio, 'optional; lower is promoted first, 0 never')],
    ok: 'Register',
    onConfirm: () => act('Registering the node', async () => {
      const body = { host: host.value.trim(), port: Number(port.value) };
      if (name.value.trim()) body.name = name.value.trim();
      if (prio.value !== '') body.priority = Number(prio.value);
      const { status, data } = await mutate('POST', '/nodes', body);
      return status === 201 ? `Node ${data.name} registered.` : `Node ${data.name} was already registered (unchanged).`;
    }),
  });
}

// One delegated listener: buttons are re-rendered by morph, listeners are not.
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-action]');
  if (!b) return;
  const { action, cluster: name, node } = b.dataset;
  // act() already reported the failure; swallow it here.
  const run = (p) => p.catch(() => {});
  switch (action) {
    case 'switchover': return run(promoteDialog(name, 'switchover'));
    case 'failover': return run(promoteDialog(name, 'failover'));
    case 'maintenance': return run(maintenanceDialog(name, node, b.dataset.on === '1'));
    case 'remove': return run(removeDialog(name, node));
    case 'add-replica': return run(addReplicaDialog(name));
    case 'register': return run(registerDialog());
    case 'token': return askToken('').then(render);
  }
});

// Enter in the token field means "use it" (the first submit button in the
// form, which implicit submission would pick, is Cancel).
$('token-input').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') { ev.preventDefault(); $('token-input').form.requestSubmit($('token-save')); }
});
$('event-filter').addEventListener('change', (ev) => { state.filter = ev.target.value; state.events = []; poll(); });
document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
poll();
