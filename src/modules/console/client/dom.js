// A tiny DOM builder. Text is only ever set with text nodes, never parsed as HTML: the
// page's Trusted Types policy would refuse HTML strings anyway.

/** @typedef {Node | string | number | null | undefined | false} Leaf */
/** @typedef {Leaf | Leaf[] | Array<Leaf | Leaf[]> | Array<Leaf | Leaf[] | Array<Leaf | Leaf[]>>} Child */

/**
 * @param {string} tag
 * @param {Record<string, unknown> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** @param {Node} parent @param {unknown[]} children */
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * A data table with a caption for screen readers and column headers.
 * @param {string} caption
 * @param {string[]} columns
 * @param {Child} rows
 * @param {Record<string, unknown> | null} [attrs]
 */
export function table(caption, columns, rows, attrs = null) {
  return h(
    'table',
    attrs,
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h('tbody', null, rows),
  );
}

/** @param {Element} el @param {...unknown} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// Only http(s) links from data become hrefs; anything else is shown as text.
/** @param {unknown} url */
export function safeUrl(url) {
  if (typeof url !== 'string') return null;
  try {
    const parsed = new URL(url, location.origin);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** @param {unknown} url @param {string} text */
export function link(url, text) {
  const href = safeUrl(url);
  return href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank' }, text) : h('span', null, text);
}

/** @param {number} seconds */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** @param {string} iso */
export function time(iso) {
  const date = new Date(iso);
  return h('time', { datetime: iso }, Number.isNaN(date.getTime()) ? iso : date.toLocaleString());
}

/** @param {string} iso */
export const ageSeconds = (iso) => (Date.now() - new Date(iso).getTime()) / 1000;

/** @param {string} message */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = message;
}
