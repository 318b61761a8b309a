import { ApiError, get, setKey, whenUnauthorized } from './api.js';
import { announce, h, replace } from './dom.js';
import { renderReviews } from './views/reviews.js';
import { renderAction } from './views/action.js';
import { renderOps } from './views/ops.js';
import { renderDrills } from './views/drills.js';

/** @typedef {{ key_id: string, tenant: string, role: 'agent' | 'reviewer' | 'admin', tools: string[] | null }} Me */

/**
 * A view draws itself into `root` and may return a cleanup (timers, key handlers).
 * @typedef {{ root: HTMLElement, me: Me, params: string[], refresh: () => void }} ViewContext
 * @typedef {(ctx: ViewContext) => Promise<(() => void) | void>} View
 */

/** @type {Array<{ pattern: RegExp, view: View, roles: string[], title: string }>} */
const ROUTES = [
  { pattern: /^#\/reviews$/, view: renderReviews, roles: ['reviewer', 'admin'], title: 'Review queue' },
  {
    pattern: /^#\/actions\/([0-9a-f-]{36})$/,
    view: renderAction,
    roles: ['reviewer', 'admin'],
    title: 'Action',
  },
  { pattern: /^#\/ops$/, view: renderOps, roles: ['admin'], title: 'Operations' },
  { pattern: /^#\/drills$/, view: renderDrills, roles: ['admin'], title: 'Drills' },
];

const NAV = [
  { hash: '#/reviews', label: 'Review queue', roles: ['reviewer', 'admin'] },
  { hash: '#/ops', label: 'Operations', roles: ['admin'] },
  { hash: '#/drills', label: 'Drills', roles: ['admin'] },
];

/** @type {Me | null} */
let me = null;
/** @type {(() => void) | void} */
let cleanup;
let renders = 0;

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

function signOut(/** @type {string} */ message = '') {
  setKey(null);
  me = null;
  cleanup?.();
  cleanup = undefined;
  replace(byId('view'));
  replace(byId('nav'));
  replace(byId('who'));
  byId('signout').hidden = true;
  byId('login').hidden = false;
  byId('login-error').textContent = message;
  document.title = 'Sign in · Airlock console';
  byId('api-key').focus();
}

async function signIn(/** @type {Event} */ event) {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('api-key'));
  const value = input.value.trim();
  input.value = '';
  if (!value) return;
  setKey(value);
  try {
    me = /** @type {Me} */ (await get('/v1/me'));
  } catch (err) {
    signOut(err instanceof ApiError && err.status === 401 ? 'That key was not accepted.' : String(err));
    return;
  }
  if (me.role === 'agent') {
    signOut('Agent keys propose actions; the console is for reviewer and admin keys.');
    return;
  }
  byId('login').hidden = true;
  byId('signout').hidden = false;
  replace(byId('who'), `${me.tenant} · ${me.role}`);
  const role = me.role;
  replace(
    byId('nav'),
    h(
      'ul',
      null,
      ...NAV.filter((n) => n.roles.includes(role)).map((n) =>
        h('li', null, h('a', { href: n.hash }, n.label)),
      ),
    ),
  );
  if (!ROUTES.some((r) => r.pattern.test(location.hash))) location.hash = '#/reviews';
  else void route();
}

/** @type {View} */
const notFound = async ({ root }) =>
  replace(
    root,
    h('h1', null, 'Not found'),
    h('p', null, 'There is no such page. ', h('a', { href: '#/reviews' }, 'Go to the review queue.')),
  );

/** @param {string} title @param {string[]} roles @returns {View} */
const notAllowed =
  (title, roles) =>
  async ({ root }) =>
    replace(
      root,
      h('h1', null, title),
      h('p', null, `This page needs one of the roles: ${roles.join(', ')}.`),
    );

async function route() {
  if (!me) return;
  const hash = location.hash;
  // The skip link and in-page anchors are not routes.
  if (!hash.startsWith('#/')) return;
  cleanup?.();
  cleanup = undefined;
  const root = byId('view');
  for (const a of byId('nav').querySelectorAll('a')) {
    if (a.getAttribute('href') === hash) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const found = ROUTES.map((r) => ({ r, m: r.pattern.exec(hash) })).find((x) => x.m);
  const title = found ? found.r.title : 'Not found';
  /** @type {View} */
  const view = !found
    ? notFound
    : found.r.roles.includes(me.role)
      ? found.r.view
      : notAllowed(title, found.r.roles);
  document.title = `${title} · Airlock console`;
  const started = performance.now();
  const id = ++renders;
  try {
    cleanup = await view({ root, me, params: found?.m?.slice(1) ?? [], refresh: () => void route() });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    replace(
      root,
      h('h1', null, title),
      h(
        'p',
        { class: 'error', role: 'alert' },
        `Could not load this page: ${String(/** @type {Error} */ (err).message)}`,
      ),
    );
  }
  if (id !== renders) return;
  // Focus moves to the new page's heading, so keyboard and screen-reader users start there.
  const heading = root.querySelector('h1');
  if (heading && !root.contains(document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  // The browser tests read these to report render times.
  performance.measure(`render ${title}`, { start: started, end: performance.now() });
  document.documentElement.dataset.rendered = `${hash} ${id}`;
  announce(`${title} loaded`);
}

whenUnauthorized(() => signOut('The key is no longer accepted; sign in again.'));
byId('login-form').addEventListener('submit', (event) => void signIn(event));
byId('signout').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => void route());
byId('api-key').focus();
document.documentElement.dataset.ready = 'true';
