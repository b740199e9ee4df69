// render.js - pure functions from API data to elements (no fetching here).
import { h, s } from './dom.js';

// Every state is shown as a symbol plus a word, and coloured by CSS class:
// the colour is never the only carrier of the meaning.
const STATE_MARK = { up: '●', suspect: '▲', down: '✖', unknown: '?' };
const HEALTH_MARK = { healthy: '✔', degraded: '▲', failing: '✖' };

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
const fmtSecs = (x) => (x === null || x === undefined ? '—' : `${x.toFixed(x < 10 ? 1 : 0)} s`);
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '—');
function ago(iso) {
  if (!iso) return '';
  const sec = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (sec < 60) return `${sec} s ago`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ago`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ago`;
  return `${Math.floor(sec / 86400)} d ago`;
}

export const stateBadge = (state) =>
  h('span', { class: `badge state state-${state}` },
    h('span', { 'aria-hidden': 'true' }, STATE_MARK[state] || '?'), ' ', h('span', { 'data-test': 'state' }, state));

/* Inline SVG sparkline of the samples kept in the page (nulls are gaps).
 * The numbers beside it carry the information; the line shows the trend. */
export function sparkline(values, label) {
  const W = 72, H = 18, n = values.length;
  const nums = values.filter((v) => typeof v === 'number');
  const max = Math.max(...nums, 0);
  const path = [];
  let pen = 'M';
  values.forEach((v, i) => {
    if (typeof v !== 'number') { pen = 'M'; return; }
    const x = n > 1 ? (i * W) / (n - 1) : W;
    const y = max > 0 ? H - 1 - (v / max) * (H - 2) : H - 1;
    path.push(`${pen}${x.toFixed(1)} ${y.toFixed(1)}`);
    pen = 'L';
  });
  const summary = nums.length ? `${label}: peak ${label.includes('bytes') ? fmtBytes(max) : fmtSecs(max)} over the last ${n} polls` : `${label}: no samples yet`;
  return s('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': summary },
    s('title', {}, summary),
    s('path', { d: path.join(' ') || `M0 ${H - 1}` }));
}

function nodeTile(cluster, m, slot, hist, replicas) {
  const isMaster = slot === 'master';
  const observed = m.role; // what the node itself says (null when never polled)
  // A down node's last reported role is stale: only flag a live mismatch.
  const mismatch = observed && observed !== slot && m.state === 'up';
  const name = m.node;
  return h('li', { class: `node state-${m.state}${m.maintenance ? ' in-maint' : ''}`, 'data-key': `node:${name}`, 'data-node': name },
    h('div', { class: 'node-head' },
      h('strong', { class: 'node-name' }, name),
      h('span', { class: 'addr' }, `${m.host}:${m.port}`)),
    h('div', { class: 'badges' },
      h('span', { class: `badge role role-${slot}`, 'data-test': 'role' }, slot),
      stateBadge(m.state),
      m.maintenance && h('span', { class: 'badge maint', 'data-test': 'maintenance' }, h('span', { 'aria-hidden': 'true' }, '⚒'), ' maintenance'),
      m.fenced && h('span', { class: 'badge warn' }, 'fenced'),
      mismatch && h('span', { class: 'badge warn', title: 'the role the node reports differs from the topology' }, `reports ${observed}`)),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Offset'), h('dd', { 'data-test': 'offset' }, m.offset ?? '—')),
      isMaster && h('div', {}, h('dt', {}, 'In sync'),
        h('dd', {}, `${replicas.filter((r) => r.in_sync).length} of ${replicas.length} replicas`)),
      !isMaster && h('div', {}, h('dt', {}, 'Link'),
        h('dd', { class: `link link-${m.link || 'none'}` },
          m.link === 'down' && h('span', { 'aria-hidden': 'true' }, '✖'),
          h('span', { 'data-test': 'link' }, m.link ? `${m.link}${m.replicating_from ? ` → ${m.replicating_from}` : ''}` : '—'))),
      !isMaster && h('div', { class: 'lag' }, h('dt', {}, 'Lag'),
        h('dd', {},
          h('span', { class: 'lag-pair' }, h('span', { class: 'lag-val', 'data-test': 'lag-bytes' }, fmtBytes(m.lag_bytes)), sparkline(hist.bytes, `${name} lag bytes`)),
          h('span', { class: 'lag-pair' }, h('span', { class: 'lag-val', 'data-test': 'lag-seconds' }, fmtSecs(m.lag_seconds)), sparkline(hist.secs, `${name} lag seconds`)))),
      !isMaster && h('div', {}, h('dt', {}, 'In sync'), h('dd', {}, m.in_sync ? 'yes' : 'no'))),
    h('div', { class: 'node-actions' },
      h('button', { type: 'button', 'data-action': 'maintenance', 'data-cluster': cluster, 'data-node': name, 'data-on': m.maintenance ? '0' : '1',
        'aria-label': `${m.maintenance ? 'End maintenance of' : 'Put in maintenance:'} ${name}` }, m.maintenance ? 'End maintenance' : 'Maintenance'),
      !isMaster && h('button', { type: 'button', 'data-action': 'remove', 'data-cluster': cluster, 'data-node': name,
        'aria-label': `Remove replica ${name} from ${cluster}` }, 'Remove')));
}

// The failover row's kind, as an operator says it.
const KIND = { automatic: 'automatic failover', manual: 'manual failover', switchover: 'switchover' };

function lastFailover(fo) {
  if (!fo) return h('p', { class: 'last-fo muted', 'data-test': 'last-failover' }, 'No failover or switchover yet.');
  const dur = fo.duration_ms !== undefined && fo.duration_ms !== null ? `${fo.duration_ms} ms` : '—';
  return h('div', { class: `last-fo fo-${fo.status}`, 'data-test': 'last-failover' },
    h('p', {},
      h('span', { class: 'fo-kind' }, `Last ${KIND[fo.kind] || fo.kind}`), ` #${fo.id}: `,
      h('strong', {}, `${fo.old_master || '?'} → ${fo.new_master || '?'}`), ', ',
      h('span', { class: `badge fo-status fo-${fo.status}` }, fo.status), ', took ',
      h('strong', { 'data-test': 'fo-duration' }, dur), ', ',
      h('time', { datetime: fo.finished_at || fo.created_at, title: fo.finished_at || fo.created_at }, ago(fo.finished_at || fo.created_at))),
    (fo.reason || fo.error) && h('p', { class: 'muted' }, [fo.reason, fo.error].filter(Boolean).join(' — ')));
}

/* One cluster card. hist(node) gives {bytes:[], secs:[]} for its sparklines. */
export function clusterCard(c, fo, hist) {
  const id = `cl-${c.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const tiles = [];
  if (c.master) tiles.push(nodeTile(c.name, c.master, 'master', hist(c.master.node), c.replicas));
  for (const r of c.replicas) tiles.push(nodeTile(c.name, r, 'replica', hist(r.node)));
  const st = c.settings || {};
  return h('article', { class: `card health-${c.health}`, 'data-key': `cluster:${c.name}`, 'data-cluster': c.name, 'aria-labelledby': `${id}-h` },
    h('header', { class: 'card-head' },
      h('h2', { id: `${id}-h` }, c.name),
      h('span', { class: `badge health health-${c.health}` },
        h('span', { 'aria-hidden': 'true' }, HEALTH_MARK[c.health] || '?'), ' ', h('span', { 'data-test': 'health' }, c.health)),
      h('span', { class: 'muted small' }, `auto-failover ${st.auto_failover ? 'on' : 'off'}`),
      h('div', { class: 'card-actions' },
        h('button', { type: 'button', 'data-action': 'switchover', 'data-cluster': c.name, 'aria-label': `Switchover of ${c.name}` }, 'Switchover…'),
        h('button', { type: 'button', 'data-action': 'failover', 'data-cluster': c.name, 'aria-label': `Failover of ${c.name}` }, 'Failover…'),
        h('button', { type: 'button', 'data-action': 'add-replica', 'data-cluster': c.name, 'aria-label': `Add a replica to ${c.name}` }, 'Add replica…'))),
    c.reasons.length
      ? h('ul', { class: 'reasons', 'aria-label': `Why ${c.name} is ${c.health}` }, c.reasons.map((r) => h('li', {}, r)))
      : null,
    c.master ? null : h('p', { class: 'warn-text' }, 'No master assigned.'),
    h('ul', { class: 'nodes', 'aria-label': `Nodes of ${c.name}` }, tiles),
    lastFailover(fo));
}

// The timeline's colour by kind (the kind itself is always printed): what
// went wrong, what recovered, and the failover machinery at work.
const BAD = /^(master\.failed|node\.down|link\.down|lag\.high|node\.fenced|resync\.full)$|\.(failed|aborted|detach_failed|blocked)$/;
const GOOD = /\.(up|done|ok|maintenance\.off)$/;
const BUSY = /^(failover|switchover|cluster\.master|node\.suspect|node\.maintenance\.on)/;
const tone = (k) => (BAD.test(k) ? 'bad' : GOOD.test(k) ? 'good' : BUSY.test(k) ? 'busy' : 'info');

export function eventItem(e) {
  return h('li', { class: `ev ev-${tone(e.kind)}`, 'data-key': `ev:${e.id}` },
    h('div', { class: 'ev-line' },
      h('time', { datetime: e.time, title: e.time }, fmtTime(e.time)),
      h('span', { class: 'ev-kind' }, e.kind),
      h('span', { class: 'ev-where' }, [e.cluster, e.node].filter(Boolean).join(' / ') || '—'),
      h('span', { class: 'ev-actor muted' }, `by ${e.actor}`)),
    h('div', { class: 'ev-msg' }, e.message));
}

export function spareNode(n) {
  const st = (n.status && n.status.state) || 'unknown';
  return h('li', { class: `spare state-${st}`, 'data-key': `spare:${n.name}` },
    h('strong', {}, n.name), ' ', h('span', { class: 'addr' }, `${n.host}:${n.port}`), ' ',
    stateBadge(st), n.maintenance ? h('span', { class: 'badge maint' }, ' maintenance') : null);
}
