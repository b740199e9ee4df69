// dom.js - element builders and a small in-place DOM patcher.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/* h('button', {class: 'x', 'data-action': 'y'}, 'text', child, [more]) */
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

/* morph(from, to): make the live element `from` look like `to` while keeping
 * every element whose tag and data-key match. The page re-renders from the
 * data on each poll; patching instead of replacing keeps keyboard focus, an
 * open <select> and a half-done mouse click on the same button. */
export function morph(from, to) {
  if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName ||
      (from.nodeType === 1 && from.getAttribute('data-key') !== to.getAttribute('data-key'))) {
    from.replaceWith(to);
    return;
  }
  if (from.nodeType !== 1) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return;
  }
  for (const a of [...from.attributes]) if (!to.hasAttribute(a.name)) from.removeAttribute(a.name);
  for (const a of [...to.attributes]) {
    if (from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
  }
  morphChildren(from, to);
}

export function morphChildren(from, to) {
  const olds = [...from.childNodes];
  const news = [...to.childNodes];
  news.forEach((n, i) => (i < olds.length ? morph(olds[i], n) : from.append(n)));
  olds.slice(news.length).forEach((n) => n.remove());
}
