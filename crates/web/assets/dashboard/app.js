/*
 * notifier staff dashboard (docs/API.md §8): one ES module, no build step, no dependencies.
 * It only talks to the public REST API with the pasted token, so it can do nothing the API
 * would not let that token do. The page's CSP forbids inline script and inline styles:
 * visibility is switched with the `hidden` attribute and classes, never inline styles.
 *
 * Stable hooks for browser tests (CSS selectors):
 *   body[data-state="loading"|"ready"]  ready = the current view is rendered and no request,
 *                                       debounce or list load is pending
 *   body[data-view="signin"|"list"|"notifier"|"deliveries"]
 *   #view-nav #nav-notifiers #nav-deliveries (the nav only with permission 2836; aria-current)
 *   #signin-form #token-input #signin-button #signin-error
 *   #signout-button #whoami #status-bar #status (role=status; plain sentences for
 *     401/403/404/413/5xx; good news fades) #status-dismiss
 *   List (location #notifiers?page=&page_size=&search=&ordering=&host=&use_tls=&use_ssl=&fail_silently=):
 *   #search-input #filter-host #filter-use_tls #filter-use_ssl #filter-fail_silently #list-clear
 *   #create-button #no-list (shown without permission 2830) #list-loading (while a page loads)
 *   #list-empty #list-empty-text #empty-create #empty-clear
 *   #notifier-table  tbody tr[data-id="<id>"]  .name-link (with 2832)
 *     .edit-button .test-button .send-button .delete-button (icon buttons, aria-label "<Action> <name>")
 *   tr.row-note[data-note-for="<id>"] (a message about that notifier, under its row)
 *   th[data-sort] (aria-sort)  button.sort-button[data-sort="id|name|created_at|updated_at"]
 *   #list-pager #prev-page #next-page #page-links .page-link[data-page] (aria-current) #page-info #page-size
 *   One notifier (2832; location #notifiers/<id>?<the list's query>):
 *   #notifier-heading #notifier-sub #nf-<field> #notifier-readonly (without 2833) #notifier-note
 *     #detail-edit #detail-test #detail-send #detail-delete #back-to-list
 *   #auth-form #auth-fields (disabled without 2833) #auth-method-password|none|xoauth2
 *     #auth-provider #auth-tenant #auth-grant #auth-token_url #auth-scope #auth-client_id
 *     #auth-client_secret #auth-refresh_token #auth-error-<field> #auth-error-summary
 *     #auth-submit #auth-status
 *   #dkim-state #dkim-record #dkim-dns-name #dkim-dns-type #dkim-dns-value .copy-button[data-copy]
 *     #dkim-copy-status #dkim-form #dkim-domain #dkim-selector #dkim-algorithm #dkim-private_key
 *     #dkim-error-<field> #dkim-error-summary #dkim-submit #dkim-delete #dkim-status
 *   Forms: #<form prefix>error-summary ("Fix n problems:", .link-button[data-focus] per problem)
 *   #form-dialog #notifier-form #field-<name> #error-<name> #error-non_field_errors #error-summary
 *     #form-submit #form-cancel #form-status
 *   #confirm-dialog #confirm-heading #confirm-text #confirm-delete #confirm-cancel #confirm-status
 *   #test-dialog #test-to #test-error-to #test-submit #test-result #test-close
 *     #test-progress #test-cancel (while it runs) #test-steps li.step[data-step][data-ok]
 *     .step-name .step-time .step-detail #test-advice #test-advice-text (the hint)
 *   #send-dialog #send-<field> #send-error-<field> #send-error-non_field_errors
 *     #send-submit #send-result #send-close #send-delivery-link (with 2836: opens the delivery)
 *   Deliveries (2836; location hash #deliveries?status=…&notifier=…&page=…):
 *   #deliveries-heading #deliveries-refresh #delivery-filters #filter-notifier (select, with 2830)
 *     #filter-notifier-id (number input, without 2830) #filter-status #filter-apply #filter-clear
 *     #filter-error
 *   #delivery-table  tbody tr[data-id="<id>"][data-status="<status>"]  .status-badge .details-button
 *   #delivery-prev #delivery-next #delivery-page-info #delivery-page-size #delivery-empty
 *   #delivery-dialog #delivery-heading #delivery-badge #detail-<field> #delivery-result
 *     #delivery-retry #delivery-cancel (only with 2835, only in states that allow them) #delivery-close
 */

const API = '/api/notifications/notifiers/email';
const ME = '/api/me';
const DELIVERIES = '/api/notifications/deliveries';
const TOKEN_KEY = 'notifier.token';
const PERM = { list: 2830, create: 2831, retrieve: 2832, edit: 2833, remove: 2834, send: 2835, deliveries: 2836, audit: 2837 };
const AUDIT = '/api/audit';
const HISTORY_PAGE = 20;
const STATUSES = ['queued', 'sending', 'sent', 'deferred', 'failed', 'cancelled'];
const RETRYABLE = ['failed', 'deferred'];
const CANCELLABLE = ['queued', 'deferred'];
const PAGE_SIZES = [10, 20, 50, 100];
const TEXT_FIELDS = ['name', 'host', 'port', 'username', 'password', 'from_email'];
const FLAG_FIELDS = ['use_tls', 'use_ssl', 'fail_silently'];
const SEND_FIELDS = ['to', 'cc', 'bcc', 'reply_to', 'subject', 'body', 'html_body'];
const SEARCH_DELAY_MS = 300;
/** Good news stays this long, then fades; errors stay until dismissed or replaced. */
const FADE_MS = 6000;
const LIST_ORDERINGS = ['id', 'name', 'created_at', 'updated_at'].flatMap((f) => [f, `-${f}`]);
const LIST_FLAGS = ['use_tls', 'use_ssl', 'fail_silently'];
const AUTH_METHODS = ['password', 'none', 'xoauth2'];
const AUTH_FIELDS = ['method', 'provider', 'tenant', 'grant', 'token_url', 'scope', 'client_id', 'client_secret', 'refresh_token'];
const DKIM_FIELDS = ['domain', 'selector', 'algorithm', 'private_key'];
/** /test's staged report: what each step checked, in the words staff use. */
const STEP_LABELS = {
  oauth2_token: 'OAuth2 access token',
  resolve: 'Resolve the host name',
  connect: 'Connect',
  tls: 'TLS handshake',
  ehlo: 'EHLO (greeting)',
  auth: 'Log in (AUTH)',
  mail_from: 'Sender (MAIL FROM)',
  rcpt_to: 'Recipient (RCPT TO)',
  data: 'Message (DATA)',
};

const MSG = {
  badToken: 'That token was not accepted.',
  noToken: 'Paste a token first.',
  session: 'Your session is no longer valid. Sign in again.',
  forbidden: 'Your token is not allowed to do that.',
  gone: 'That notifier no longer exists.',
  deliveryGone: 'That delivery no longer exists.',
  tooLarge: 'That request is too large.',
  server: 'The server had a problem. Try again.',
  network: 'Could not reach the server. Check your connection and try again.',
  bug: 'Something went wrong in the dashboard. Reload the page and try again.',
};

const $ = (selector) => document.querySelector(selector);

const state = {
  token: null,
  me: null,
  page: 1,
  pageSize: 20,
  search: '',
  ordering: 'id',
  filters: { host: '', use_tls: '', use_ssl: '', fail_silently: '' },
  count: 0,
  rows: new Map(), // id → notifier, as last listed
  notes: new Map(), // id → { text, tone }: a message shown under that notifier's row
  listAbort: null,
};

/* ---------- busy tracking: drives body[data-state] for tests and aria-busy ---------- */

let busyCount = 0;

function beginBusy() {
  busyCount += 1;
  document.body.dataset.state = 'loading';
}

function endBusy() {
  busyCount = Math.max(0, busyCount - 1);
  if (busyCount === 0) document.body.dataset.state = 'ready';
}

/** Runs an async task while the page reports "loading"; a crash becomes a sentence. */
function busy(task) {
  beginBusy();
  return Promise.resolve()
    .then(task)
    .catch((error) => {
      console.error(error);
      say(MSG.bug, 'error');
    })
    .finally(endBusy);
}

/* ---------- HTTP ---------- */

/**
 * One API call. Never throws: a network failure is status 0, an abort is `aborted`,
 * so every caller handles outcomes in one place.
 */
async function request(method, path, body, { signal, token = state.token } = {}) {
  const headers = { Accept: 'application/json', Authorization: `Token ${token}` };
  const init = { method, headers, signal, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(path, init);
    const text = await response.text();
    return { ok: response.ok, status: response.status, data: parseJson(text) };
  } catch (error) {
    if (error.name === 'AbortError') return { aborted: true };
    return { ok: false, status: 0, data: null };
  }
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The plain sentence for a failed call (everything but 400, which goes next to fields). */
function sentence(res, gone = MSG.gone) {
  if (res.status === 0) return MSG.network;
  if (res.status === 401) return MSG.session;
  if (res.status === 403) return MSG.forbidden;
  if (res.status === 404) return gone;
  if (res.status === 413) return MSG.tooLarge;
  if (res.status >= 500) return MSG.server;
  const detail = res.data && typeof res.data.detail === 'string' ? res.data.detail : '';
  return detail || `The request failed (HTTP ${res.status}).`;
}

/**
 * Reports a failure in #status and, when given, in the open dialog's own status line
 * (a modal dialog makes the page behind it inert, so #status alone would go unseen).
 * A 401 means the token died: the session ends.
 */
function reportFailure(res, area, gone) {
  if (res.status === 401) {
    expireSession();
    return;
  }
  const text = sentence(res, gone);
  say(text, 'error');
  if (area) setLine(area, text, 'error');
}

/* ---------- small DOM helpers ---------- */

let statusTimer = null;

/** The page-wide message bar (sticky, so it stays in view when scrolled). */
function say(text, tone = 'info') {
  clearTimeout(statusTimer);
  setLine($('#status'), text, tone);
  const bar = $('#status-bar');
  bar.hidden = !text;
  bar.dataset.tone = tone;
  bar.classList.remove('fading');
  if (text && tone !== 'error') statusTimer = setTimeout(() => fade(bar, () => say('')), FADE_MS);
}

/** Fades an element out (CSS), then runs `done`. */
function fade(element, done) {
  element.classList.add('fading');
  setTimeout(done, 600);
}

/** A message line next to its cause; good news fades after a while. */
function flash(element, text, tone = 'info') {
  clearTimeout(element.fadeTimer);
  element.classList.remove('fading');
  setLine(element, text, tone);
  if (text && tone !== 'error') {
    element.fadeTimer = setTimeout(() => fade(element, () => flash(element, '')), FADE_MS);
  }
}

function setLine(element, text, tone = 'info') {
  element.textContent = text;
  element.dataset.tone = tone;
}

function can(permission) {
  return Boolean(state.me && state.me.permissions.includes(permission));
}

function tlsMode(notifier) {
  if (notifier.use_ssl) return 'SSL';
  return notifier.use_tls ? 'STARTTLS' : 'plain';
}

/** Local [YYYY-MM-DD, HH:MM]: compact and unambiguous; the exact UTC value goes in a title. */
function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return [String(iso ?? ''), ''];
  const two = (n) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  return [day, `${two(date.getHours())}:${two(date.getMinutes())}`];
}

/* ---------- session ---------- */

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: the user simply signs in each time
  }
}

function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives in memory for this page only */
  }
}

const TITLES = { signin: 'Email notifiers', list: 'Email notifiers', notifier: 'Notifier', deliveries: 'Deliveries' };

function showView(name) {
  $('#signin-view').hidden = name !== 'signin';
  $('#list-view').hidden = name !== 'list';
  $('#notifier-view').hidden = name !== 'notifier';
  $('#deliveries-view').hidden = name !== 'deliveries';
  $('#session').hidden = name === 'signin';
  $('#view-nav').hidden = name === 'signin' || !can(PERM.deliveries);
  $('#nav-notifiers').setAttribute('href', listHash());
  const section = name === 'notifier' ? 'list' : name;
  for (const [link, view] of [['#nav-notifiers', 'list'], ['#nav-deliveries', 'deliveries']]) {
    if (view === section) $(link).setAttribute('aria-current', 'page');
    else $(link).removeAttribute('aria-current');
  }
  document.body.dataset.view = name;
  document.title = `${TITLES[name]} · notifier`;
}

/** The heading of the view on screen: where focus goes when its target is gone. */
function viewHeading() {
  const view = document.body.dataset.view;
  if (view === 'deliveries') return $('#deliveries-heading');
  return view === 'notifier' ? $('#notifier-heading') : $('#list-heading');
}

function showSignin() {
  showView('signin');
  $('#token-input').value = '';
  $('#token-input').focus();
}

/** Validates a token with GET /api/me and opens the list view. */
async function signIn(token, restoring) {
  const res = await request('GET', ME, undefined, { token });
  if (res.ok && res.data && Array.isArray(res.data.permissions)) {
    state.token = token;
    state.me = res.data;
    storeToken(token);
    await showMain();
    return;
  }
  storeToken(null);
  showSignin();
  if (res.status === 401 && restoring) say(MSG.session, 'error');
  else showSigninError(res.status === 401 ? MSG.badToken : sentence(res));
}

function showSigninError(text) {
  const error = $('#signin-error');
  error.textContent = text;
  error.hidden = !text;
  if (text) $('#token-input').setAttribute('aria-invalid', 'true');
  else $('#token-input').removeAttribute('aria-invalid');
}

function onSigninSubmit(event) {
  event.preventDefault();
  const token = $('#token-input').value.trim();
  showSigninError('');
  say('');
  // Header values must be printable ASCII; anything else could never be a valid key.
  if (!token) return showSigninError(MSG.noToken);
  if (!/^[\x21-\x7e]+$/.test(token)) return showSigninError(MSG.badToken);
  busy(() => signIn(token, false));
}

function forgetSession() {
  cancelPendingSearch();
  state.listAbort?.abort();
  tester.abort?.abort();
  setListLoading(false);
  state.token = null;
  state.me = null;
  state.rows.clear();
  storeToken(null);
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  $('#notifier-rows').replaceChildren();
  $('#notifier-table').removeAttribute('aria-busy');
  Object.assign(state, { page: 1, pageSize: 20, search: '', ordering: 'id', count: 0 });
  state.filters = { host: '', use_tls: '', use_ssl: '', fail_silently: '' };
  state.notes.clear();
  Object.assign(detail, { id: null, notifier: null });
  syncListControls();
  forgetDeliveries();
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
}

function signOut() {
  forgetSession();
  showSignin();
  say('Signed out.');
}

/** A 401 after sign-in: the token was revoked or the user deactivated. */
function expireSession() {
  forgetSession();
  showSignin();
  say(MSG.session, 'error');
}

/** Signed in: the view the location asks for, with only what /api/me's permissions allow. */
async function showMain() {
  const { username, is_admin: admin, is_staff: staff } = state.me;
  $('#whoami').textContent = `Signed in as ${username}${admin ? ' (admin)' : staff ? ' (staff)' : ''}`;
  $('#create-button').hidden = !can(PERM.create);
  const rowActions = [PERM.edit, PERM.remove, PERM.send].some(can);
  $('#notifier-table').classList.toggle('no-actions', !rowActions);
  await route();
}

/*
 * The location says what is on screen, so reload, Back and shared links show the same view:
 *   #notifiers?page=2&page_size=50&search=…&ordering=-name&host=…&use_tls=true  the list
 *   #notifiers/<id>?<the list's query>                                           one notifier
 *   #deliveries?…                                                                the delivery log
 */
function parseHash(hash = location.hash) {
  const one = /^#notifiers\/([1-9]\d{0,8})(?:\?(.*))?$/.exec(hash);
  if (one) return { view: 'notifier', id: Number(one[1]), query: one[2] || '' };
  if (hash.startsWith('#deliveries')) return { view: 'deliveries', query: '' };
  const list = /^#notifiers(?:\?(.*))?$/.exec(hash);
  return { view: 'list', query: list ? list[1] || '' : '' };
}

/** #deliveries… opens the delivery log (with 2836), #notifiers/<id> a notifier (with 2832),
 * anything else the notifier list. */
function route() {
  const where = parseHash();
  if (where.view === 'deliveries' && can(PERM.deliveries)) return showDeliveries();
  readListQuery(where.query);
  if (where.view === 'notifier' && can(PERM.retrieve)) return showNotifier(where.id);
  return showNotifiers();
}

/** In-page links switch views in place (pushState: Back returns to the previous view). */
function onLinkClick(event) {
  const link = event.target.closest('a[href^="#notifiers"], a[href^="#deliveries"]');
  if (!link || !state.token || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  pushHash(link.getAttribute('href'));
  busy(route);
}

function pushHash(hash) {
  if (hash !== location.hash) history.pushState(null, '', hash);
}

/** Back and Forward between views (popstate: also for pushState entries, which fire no
 * hashchange); other fragments (the skip link's #main) are not views. */
function onHistoryMove() {
  const hash = location.hash;
  if (!state.token || (hash && !hash.startsWith('#notifiers') && !hash.startsWith('#deliveries'))) return;
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  busy(route);
}

async function showNotifiers() {
  deliveries.abort?.abort();
  showView('list');
  $('#no-list').hidden = can(PERM.list);
  $('#list-body').hidden = !can(PERM.list);
  syncListControls();
  if (can(PERM.list)) await loadList();
  $('#list-heading').focus();
}

/* ---------- list ---------- */

/** The list's state from a location query; anything odd falls back to its default. */
function readListQuery(query) {
  const params = new URLSearchParams(query);
  const get = (key) => params.get(key) ?? '';
  const positive = (v) => /^[1-9]\d{0,8}$/.test(v);
  state.page = positive(get('page')) ? Number(get('page')) : 1;
  state.pageSize = PAGE_SIZES.includes(Number(get('page_size'))) ? Number(get('page_size')) : 20;
  state.search = get('search').trim().slice(0, 1000);
  state.ordering = LIST_ORDERINGS.includes(get('ordering')) ? get('ordering') : 'id';
  state.filters = { host: get('host').trim().slice(0, 255) };
  for (const flag of LIST_FLAGS) state.filters[flag] = ['true', 'false'].includes(get(flag)) ? get(flag) : '';
}

/** The list's state as a query: only what differs from the defaults. */
function listQuery({ page = state.page } = {}) {
  const params = new URLSearchParams();
  if (page > 1) params.set('page', String(page));
  if (state.pageSize !== 20) params.set('page_size', String(state.pageSize));
  if (state.search) params.set('search', state.search);
  if (state.ordering !== 'id') params.set('ordering', state.ordering);
  for (const [key, value] of Object.entries(state.filters)) if (value) params.set(key, value);
  return params.toString();
}

function listHash(options) {
  const query = listQuery(options);
  return `#notifiers${query ? `?${query}` : ''}`;
}

function notifierHash(id) {
  const query = listQuery();
  return `#notifiers/${id}${query ? `?${query}` : ''}`;
}

/** The search field, filters and page size show the state (after a reload, Back or a link). */
function syncListControls() {
  $('#search-input').value = state.search;
  $('#filter-host').value = state.filters.host;
  for (const flag of LIST_FLAGS) $(`#filter-${flag}`).value = state.filters[flag];
  $('#page-size').value = String(state.pageSize);
  $('#list-clear').hidden = !narrowed();
  showFilterCount();
  // On a phone the filters fold away unless one is on; on wider screens they stay open.
  $('#list-filters').open = WIDE.matches || Object.values(state.filters).some(Boolean);
}

const WIDE = matchMedia('(min-width: 761px)');

/** "(2 on)" beside the folded filters' summary. */
function showFilterCount() {
  const on = Object.values(state.filters).filter(Boolean).length;
  $('#filter-count').textContent = on ? `(${on} on)` : '';
}

function narrowed() {
  return Boolean(state.search || Object.values(state.filters).some(Boolean));
}

/** A change the user made to the list: a new history entry, then the new page. */
function changeList(change) {
  change();
  pushHash(listHash());
  $('#nav-notifiers').setAttribute('href', listHash());
  $('#list-clear').hidden = !narrowed();
  showFilterCount();
  busy(loadList);
}

function listUrl() {
  const params = new URLSearchParams({
    page: String(state.page),
    page_size: String(state.pageSize),
    ordering: state.ordering,
  });
  if (state.search) params.set('search', state.search);
  for (const [key, value] of Object.entries(state.filters)) if (value) params.set(key, value);
  return `${API}?${params}`;
}

/** Loads the current page; a newer load aborts an older one so results never interleave. */
async function loadList() {
  state.listAbort?.abort();
  const controller = new AbortController();
  state.listAbort = controller;
  setListLoading(true);
  const res = await request('GET', listUrl(), undefined, { signal: controller.signal });
  if (res.aborted) return;
  state.listAbort = null;
  setListLoading(false);
  if (res.ok) return renderList(res.data);
  if (res.status === 404 && state.page > 1) return loadEarlierPage();
  reportFailure(res);
}

/** While a page loads, the old rows dim under a visible "Loading…" (and aria-busy). */
function setListLoading(loading) {
  const wrap = $('#notifier-table-wrap');
  wrap.classList.toggle('is-loading', loading);
  if (loading) wrap.hidden = false;
  $('#list-loading').hidden = !loading;
  if (loading) $('#notifier-table').setAttribute('aria-busy', 'true');
  else $('#notifier-table').removeAttribute('aria-busy');
}

/** "Invalid page.": rows vanished under us (or a stale link); step back to a page that exists. */
function loadEarlierPage() {
  const lastKnown = Math.max(1, Math.ceil(state.count / state.pageSize));
  state.page = lastKnown < state.page ? lastKnown : 1;
  if (document.body.dataset.view === 'list') history.replaceState(null, '', listHash());
  return loadList();
}

function renderList(data) {
  const results = Array.isArray(data.results) ? data.results : [];
  state.count = Number(data.count) || 0;
  state.rows = new Map(results.map((notifier) => [notifier.id, notifier]));
  const refocus = focusedRowButton();
  $('#notifier-rows').replaceChildren(...results.map(buildRow));
  for (const id of state.notes.keys()) renderNote(id);
  // Keep keyboard focus on the same button; if its row is gone (deleted), on the heading.
  if (refocus && !focusRowButton(refocus.id, refocus.className)) $('#list-heading').focus();
  renderEmpty(results.length);
  renderPager();
  renderSort();
}

/** An empty page says why, and offers the next step. */
function renderEmpty(shown) {
  $('#list-empty').hidden = shown > 0;
  const filtered = narrowed();
  let text = 'No notifiers yet.';
  if (state.search) text = `No notifiers match “${state.search}”${filtered && Object.values(state.filters).some(Boolean) ? ' with these filters' : ''}.`;
  else if (filtered) text = 'No notifiers match these filters.';
  if (!filtered && can(PERM.create)) text += ' Create one to start sending mail.';
  $('#list-empty-text').textContent = text;
  $('#empty-create').hidden = filtered || !can(PERM.create);
  $('#empty-clear').hidden = !filtered;
  // Nothing to sort or page through: the empty state alone, with its one way on.
  $('#notifier-table-wrap').hidden = shown === 0;
  $('#list-pager').hidden = state.count === 0;
  $('#list-clear').hidden = !filtered || shown === 0;
}

function clearListNarrowing() {
  changeList(() => {
    state.search = '';
    state.filters = { host: '', use_tls: '', use_ssl: '', fail_silently: '' };
    state.page = 1;
    syncListControls();
  });
  $('#search-input').focus();
}

function buildRow(notifier) {
  const row = $('#row-template').content.firstElementChild.cloneNode(true);
  row.dataset.id = String(notifier.id);
  const cell = (name) => row.querySelector(`.col-${name}`);
  cell('id').textContent = String(notifier.id);
  const link = cell('name').querySelector('.name-link');
  cell('name').title = notifier.name;
  if (can(PERM.retrieve)) {
    link.textContent = notifier.name;
    link.href = notifierHash(notifier.id);
    cell('name').querySelector('.name-text').remove();
  } else {
    cell('name').querySelector('.name-text').textContent = notifier.name;
    link.remove();
  }
  // Long values end in "…" rather than break mid-word; the whole value is in the title.
  const truncated = (name, text) => {
    const span = cell(name).querySelector('.truncate');
    span.textContent = text;
    span.title = text;
  };
  truncated('host', `${notifier.host}:${notifier.port}`);
  truncated('username', notifier.username);
  truncated('from', notifier.from_email);
  const badge = row.querySelector('.tls-badge');
  badge.textContent = tlsMode(notifier);
  badge.classList.add(`tls-${tlsMode(notifier).toLowerCase()}`);
  fillTime(cell('created').querySelector('time'), notifier.created_at);
  fillTime(cell('updated').querySelector('time'), notifier.updated_at);
  pruneRowActions(row, notifier.name);
  return row;
}

/** Day and time in two spans, so the table can stack them and save width. */
function fillTime(element, iso) {
  const [day, clock] = formatDate(iso);
  element.dateTime = iso;
  element.title = iso;
  const time = document.createElement('span');
  time.className = 'clock';
  time.textContent = clock;
  element.replaceChildren(day, ' ', time);
}

/** Removes the actions this token may not take; labels the rest with the notifier's name. */
function pruneRowActions(row, name) {
  const allowed = {
    'edit-button': can(PERM.edit),
    'test-button': can(PERM.send),
    'send-button': can(PERM.send),
    'delete-button': can(PERM.remove),
  };
  for (const [className, ok] of Object.entries(allowed)) {
    const button = row.querySelector(`.${className}`);
    if (!ok) button.remove();
    else {
      // Icon buttons: the name is for screen readers, the title a tooltip for the mouse.
      button.setAttribute('aria-label', `${button.dataset.action} ${name}`);
      button.title = button.dataset.action;
    }
  }
}

function renderPager() {
  const pages = Math.max(1, Math.ceil(state.count / state.pageSize));
  const noun = state.count === 1 ? 'notifier' : 'notifiers';
  $('#page-info').textContent = `Page ${state.page} of ${pages} · ${state.count} ${noun}`;
  setDisabled($('#prev-page'), state.page <= 1, $('#next-page'));
  setDisabled($('#next-page'), state.page >= pages, $('#prev-page'));
  $('#page-links').replaceChildren(...pageNumbers(state.page, pages).map((n) => pageLink(n, pages)));
}

/** First, last, and the current page with its neighbours; gaps become "…". */
function pageNumbers(current, pages) {
  const shown = [1, pages, current - 1, current, current + 1].filter((n) => n >= 1 && n <= pages);
  const sorted = [...new Set(shown)].sort((a, b) => a - b);
  const out = [];
  for (const n of sorted) {
    if (out.length && n - out[out.length - 1] === 2) out.push(n - 1);
    else if (out.length && n - out[out.length - 1] > 2) out.push(null);
    out.push(n);
  }
  return out;
}

function pageLink(n, pages) {
  const item = document.createElement('li');
  if (n === null) {
    item.className = 'page-gap';
    item.textContent = '…';
    return item;
  }
  const link = document.createElement('a');
  link.className = 'page-link';
  link.href = listHash({ page: n });
  link.dataset.page = String(n);
  link.textContent = String(n);
  link.setAttribute('aria-label', `Page ${n} of ${pages}`);
  if (n === state.page) link.setAttribute('aria-current', 'page');
  item.append(link);
  return item;
}

/** Disables a button without dropping keyboard focus on the floor. */
function setDisabled(button, disabled, fallback) {
  const hadFocus = document.activeElement === button;
  button.disabled = disabled;
  if (disabled && hadFocus) (fallback.disabled ? $('#list-heading') : fallback).focus();
}

function renderSort(table = '#notifier-table', ordering = state.ordering) {
  const field = ordering.replace(/^-/, '');
  const direction = ordering.startsWith('-') ? 'descending' : 'ascending';
  for (const th of document.querySelectorAll(`${table} th[data-sort]`)) {
    if (th.dataset.sort === field) th.setAttribute('aria-sort', direction);
    else th.removeAttribute('aria-sort');
  }
}

function focusedRowButton() {
  const active = document.activeElement;
  const row = active && active.closest && active.closest('#notifier-rows tr');
  return row ? { id: row.dataset.id, className: active.classList[0] } : null;
}

function focusRowButton(id, className, rows = '#notifier-rows') {
  const button = document.querySelector(`${rows} tr[data-id="${CSS.escape(String(id))}"] .${className}`);
  if (button) button.focus();
  return Boolean(button);
}

/* row notes: what happened to a notifier, shown under its row (good news fades) */

const NOTE_COLUMNS = 9;

/** Says `text` where the eye is: under the notifier's row, on its page, or in the bar. */
function tell(id, text, tone = 'info') {
  const view = document.body.dataset.view;
  if (view === 'notifier' && detail.id === id) return flash($('#notifier-note'), text, tone);
  if (view === 'list' && state.rows.has(id)) {
    clearTimeout(state.notes.get(id)?.timer);
    const note = { text, tone };
    if (tone !== 'error') note.timer = setTimeout(() => dropNote(id), FADE_MS);
    state.notes.set(id, note);
    renderNote(id);
    return;
  }
  say(text, tone);
}

function dropNote(id) {
  const shown = document.querySelector(`#notifier-rows tr.row-note[data-note-for="${id}"]`);
  const forget = () => {
    state.notes.delete(id);
    document.querySelector(`#notifier-rows tr.row-note[data-note-for="${id}"]`)?.remove();
  };
  if (shown) fade(shown, forget);
  else forget();
}

function renderNote(id) {
  document.querySelector(`#notifier-rows tr.row-note[data-note-for="${id}"]`)?.remove();
  const note = state.notes.get(id);
  const row = document.querySelector(`#notifier-rows tr[data-id="${id}"]`);
  if (!note || !row) return;
  const tr = document.createElement('tr');
  tr.className = 'row-note';
  tr.dataset.noteFor = String(id);
  tr.dataset.tone = note.tone;
  const td = document.createElement('td');
  td.colSpan = NOTE_COLUMNS;
  const line = document.createElement('p');
  line.setAttribute('role', 'status');
  line.className = 'inline-status';
  setLine(line, note.text, note.tone);
  td.append(line);
  tr.append(td);
  row.after(tr);
}

/** A second click on the same column reverses the order. */
function onSortClick(event) {
  const button = event.target.closest('.sort-button');
  if (!button) return;
  const field = button.dataset.sort;
  changeList(() => {
    state.ordering = state.ordering === field ? `-${field}` : field;
    state.page = 1;
  });
}

function goToPage(delta) {
  changeList(() => {
    state.page = Math.max(1, state.page + delta);
  });
}

/* search: typing waits for a pause; Enter searches at once */
let searchTimer = null;

function onSearchInput() {
  if (searchTimer) clearTimeout(searchTimer);
  else beginBusy(); // the pending search counts as loading, so tests can wait for it
  searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
}

function cancelPendingSearch() {
  if (!searchTimer) return;
  clearTimeout(searchTimer);
  searchTimer = null;
  endBusy();
}

function runSearch() {
  cancelPendingSearch();
  if (!state.token) return;
  applyListControls();
}

/** Search and filters as typed and chosen: one history entry when anything changed. */
function applyListControls() {
  const search = $('#search-input').value.trim();
  const filters = { host: $('#filter-host').value.trim() };
  for (const flag of LIST_FLAGS) filters[flag] = $(`#filter-${flag}`).value;
  const same = search === state.search && Object.entries(filters).every(([key, value]) => state.filters[key] === value);
  if (same) return;
  changeList(() => {
    Object.assign(state, { search, filters, page: 1 });
  });
}

function onPageSizeChange() {
  changeList(() => {
    state.pageSize = Number($('#page-size').value) || 20;
    state.page = 1;
  });
}

function onRowClick(event) {
  const button = event.target.closest('button');
  const row = button && button.closest('tr[data-id]');
  if (!row) return;
  openAction(button, Number(row.dataset.id));
}

/** Edit, Test, Send and Delete, from a row or from the notifier's page. A note left under
 * the row (an error stays until then) makes way for the new action. */
function openAction(button, id) {
  if (state.notes.has(id)) dropNote(id);
  if (button.classList.contains('edit-button')) busy(() => openEdit(id, button));
  else if (button.classList.contains('test-button')) openTest(id, button);
  else if (button.classList.contains('send-button')) openSend(id, button);
  else if (button.classList.contains('delete-button')) openDelete(id, button);
}

/** The notifier as last shown: its row, or its page. */
function known(id) {
  return state.rows.get(id) || (detail.notifier && detail.notifier.id === id ? detail.notifier : undefined);
}

/* ---------- dialogs: open, focus first field, return focus on close ---------- */

const dialogTickets = new Map(); // dialog → number of times opened (guards late responses)
const dialogOpeners = new Map(); // dialog → { element, rowId, className }

function openDialog(dialog, opener, firstField) {
  const row = opener && opener.closest('tr[data-id]');
  dialogOpeners.set(dialog, {
    element: opener,
    rowId: row ? row.dataset.id : null,
    rows: row ? `#${row.parentElement.id}` : null,
    className: opener ? opener.classList[0] : null,
  });
  dialogTickets.set(dialog, (dialogTickets.get(dialog) || 0) + 1);
  dialog.showModal();
  $(firstField).focus();
  return dialogTickets.get(dialog);
}

/** True while the dialog opened as `ticket` is still the one on screen. */
function stillOpen(dialog, ticket) {
  return dialog.open && dialogTickets.get(dialog) === ticket;
}

/** Focus goes back to the button that opened the dialog, or its twin in a re-rendered row. */
function restoreFocus(dialog) {
  const opener = dialogOpeners.get(dialog);
  dialogOpeners.delete(dialog);
  if (!opener || document.body.dataset.view === 'signin') return;
  if (opener.element && opener.element.isConnected && opener.element.checkVisibility()) {
    opener.element.focus();
  } else if (!opener.rowId || !focusRowButton(opener.rowId, opener.className, opener.rows)) {
    viewHeading().focus();
  }
}

function clearErrors(form, prefix) {
  for (const error of form.querySelectorAll(`[id^="${prefix}"]`)) {
    error.hidden = true;
    error.replaceChildren();
  }
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    const ids = (input.getAttribute('aria-describedby') || '').split(' ');
    setDescribedBy(input, ids.filter((id) => !id.startsWith(prefix)));
  }
}

function setDescribedBy(input, ids) {
  const list = ids.filter(Boolean);
  if (list.length) input.setAttribute('aria-describedby', list.join(' '));
  else input.removeAttribute('aria-describedby');
}

/** Flattens DRF error values: lists, strings, and list fields' {"0": [...]} objects. */
function messagesOf(value) {
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => {
      const label = /^\d+$/.test(key) ? `Address ${Number(key) + 1}` : key;
      return messagesOf(inner).map((message) => `${label}: ${message}`);
    });
  }
  return value == null ? [] : [String(value)];
}

/* validation in staff's words: the API keeps DRF's bytes, the page says it plainly */

/** The visible label of an input, without its "(optional)" note. */
function labelOf(input) {
  const label = input && input.id ? document.querySelector(`label[for="${CSS.escape(input.id)}"]`) : null;
  if (!label) return 'This field';
  const copy = label.cloneNode(true);
  for (const note of copy.querySelectorAll('.optional')) note.remove();
  return copy.textContent.trim();
}

/** One API message for `input`, rephrased when DRF's wording is terse or lower case. */
function friendly(message, input) {
  const label = labelOf(input);
  const rules = [
    [/^This field (is required|may not be blank|may not be null)\.$/, () => `${label} is required.`],
    [/^Ensure this field has no more than (\d+) characters\.$/, (m) => `${label} can be at most ${m[1]} characters long.`],
    [/^Ensure this field has at least (\d+) characters\.$/, (m) => `${label} must be at least ${m[1]} characters long.`],
    [/^Ensure this value is (less|greater) than or equal to (\d+)\.$/, (m) => rangeMessage(input, label, m)],
    [/^Enter a valid email address\.$/, () => `${label}: enter an email address such as name@example.com.`],
    [/^A valid integer is required\.$/, () => `${label} must be a whole number.`],
    [/^Must be a valid boolean\.$/, () => `${label} must be on or off.`],
    [/^Enter a valid URL\.$/, () => `${label}: enter a full address that starts with https.`],
    [/^email notifier with this name already exists\.$/, () => 'A notifier with this name already exists. Choose another name.'],
    [/^"(.*)" is not a valid choice\.$/, (m) => `${label}: “${m[1]}” is not one of the choices.`],
  ];
  for (const [pattern, say] of rules) {
    const match = pattern.exec(message);
    if (match) return say(match);
  }
  return message ? message[0].toUpperCase() + message.slice(1) : message;
}

function rangeMessage(input, label, match) {
  const min = input && input.min;
  const max = input && input.max;
  if (min && max) return `${label} must be between ${min} and ${max}.`;
  return `${label} must be ${match[1] === 'less' ? 'at most' : 'at least'} ${match[2]}.`;
}

/**
 * The browser's own checks (required, number ranges, e-mail and URL syntax) before any
 * request: {field: [message]} in the page's words, or null when the form is valid.
 */
function browserProblems(form) {
  if (form.checkValidity()) return null;
  const problems = {};
  for (const input of form.elements) {
    if (!input.willValidate || input.validity.valid || !input.name) continue;
    const label = labelOf(input);
    const v = input.validity;
    let message = input.validationMessage;
    if (v.valueMissing) message = `${label} is required.`;
    else if (v.badInput || v.stepMismatch) message = `${label} must be a whole number.`;
    else if (v.rangeOverflow || v.rangeUnderflow) message = rangeMessage(input, label, [null, v.rangeOverflow ? 'less' : 'greater', v.rangeOverflow ? input.max : input.min]);
    else if (v.typeMismatch && input.type === 'email') message = `${label}: enter an email address such as name@example.com.`;
    else if (v.typeMismatch && input.type === 'url') message = `${label}: enter a full address that starts with https.`;
    else if (v.tooLong) message = `${label} can be at most ${input.maxLength} characters long.`;
    problems[input.name] = [message];
  }
  return problems;
}

/**
 * Shows a 400 body (or the browser's findings) next to its fields: #<errorPrefix><field>
 * beside #<inputPrefix><field>, and a summary at the top of the form linking to each.
 * Keys that are not fields (non_field_errors, detail) go to the form-level error line.
 * Focuses the first invalid field so keyboard users land on the problem.
 */
function showFieldErrors(data, { fields, errorPrefix, inputPrefix }) {
  const body = data && typeof data === 'object' ? data : { non_field_errors: ['The request was rejected.'] };
  let firstInvalid = null;
  const summary = [];
  for (const [key, value] of Object.entries(body)) {
    const isField = fields.includes(key) && $(`#${inputPrefix}${key}`) !== null;
    const input = isField ? $(`#${inputPrefix}${key}`) : null;
    // Unknown keys keep their name; "detail" (a JSON parse error) and non_field_errors need none.
    const named = !isField && key !== 'non_field_errors' && key !== 'detail';
    const messages = messagesOf(value).map((message) => (named ? `${key}: ${message}` : friendly(message, input)));
    const error = $(`#${errorPrefix}${isField ? key : 'non_field_errors'}`);
    error.append(...messages.map(lineSpan));
    error.hidden = false;
    if (!isField) continue;
    summary.push(...messages.map((message) => [message, input]));
    input.setAttribute('aria-invalid', 'true');
    const ids = (input.getAttribute('aria-describedby') || '').split(' ');
    setDescribedBy(input, [...ids, error.id]);
    firstInvalid = firstInvalid || input;
  }
  showSummary($(`#${errorPrefix}summary`), summary);
  (firstInvalid || $(`#${errorPrefix}non_field_errors`)).focus();
}

/** "Fix 2 problems:" with a button per problem that moves focus to its field. */
function showSummary(element, problems) {
  if (!element || problems.length === 0) return;
  const title = document.createElement('p');
  title.className = 'summary-title';
  title.textContent = problems.length === 1 ? 'Fix 1 problem:' : `Fix ${problems.length} problems:`;
  const list = document.createElement('ul');
  for (const [message, input] of problems) {
    const item = document.createElement('li');
    const jump = document.createElement('button');
    jump.type = 'button';
    jump.className = 'link-button';
    jump.dataset.focus = input.id;
    jump.textContent = message;
    item.append(jump);
    list.append(item);
  }
  element.replaceChildren(title, list);
  element.hidden = false;
}

function onSummaryClick(event) {
  const jump = event.target.closest('.link-button[data-focus]');
  if (jump) document.getElementById(jump.dataset.focus)?.focus();
}

function lineSpan(text) {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}

/** Disables a dialog's submit button while its request runs (no double submits). */
async function withSubmitLock(button, task) {
  if (button.disabled) return;
  button.disabled = true;
  try {
    await task();
  } finally {
    button.disabled = false;
  }
}

/* ---------- create / edit ---------- */

const editor = { mode: 'create', id: null, loaded: null, ticket: 0 };

function resetNotifierForm() {
  const form = $('#notifier-form');
  form.reset();
  clearErrors(form, 'error-');
  setLine($('#form-status'), '');
}

function openCreate(opener) {
  resetNotifierForm();
  Object.assign(editor, { mode: 'create', id: null, loaded: null });
  $('#form-heading').textContent = 'New notifier';
  $('#form-submit').textContent = 'Create';
  $('#hint-password').hidden = true;
  $('#field-password').required = true;
  $('#field-use_tls').checked = true; // the API's default
  updatePortPlaceholder();
  editor.ticket = openDialog($('#form-dialog'), opener, '#field-name');
}

/** Edit starts from fresh values when the token may retrieve, else from the listed row. */
async function openEdit(id, opener) {
  let notifier = known(id);
  if (can(PERM.retrieve)) {
    const res = await request('GET', `${API}/${id}`);
    if (!res.ok) {
      reportFailure(res);
      if (res.status === 404) await refreshView();
      return;
    }
    notifier = res.data;
  }
  if (!notifier || $('#form-dialog').open) return;
  resetNotifierForm();
  Object.assign(editor, { mode: 'edit', id, loaded: notifier });
  fillNotifierForm(notifier);
  $('#form-heading').textContent = `Edit “${notifier.name}”`;
  $('#form-submit').textContent = 'Save';
  $('#hint-password').hidden = false;
  $('#field-password').required = false;
  $('#field-port').placeholder = '';
  editor.ticket = openDialog($('#form-dialog'), opener, '#field-name');
}

function fillNotifierForm(notifier) {
  for (const field of TEXT_FIELDS) {
    // The stored password is never shown: an empty field means "keep it".
    $(`#field-${field}`).value = field === 'password' ? '' : String(notifier[field] ?? '');
  }
  for (const field of FLAG_FIELDS) $(`#field-${field}`).checked = Boolean(notifier[field]);
}

function updatePortPlaceholder() {
  if (editor.mode !== 'create') return;
  const port = $('#field-use_ssl').checked ? 465 : $('#field-use_tls').checked ? 587 : 25;
  $('#field-port').placeholder = String(port);
}

function readNotifierForm() {
  const values = {};
  for (const field of TEXT_FIELDS) values[field] = $(`#field-${field}`).value;
  for (const field of FLAG_FIELDS) values[field] = $(`#field-${field}`).checked;
  return values;
}

/** JSON integers when the text is one; anything else goes as typed so the API names the problem. */
function portValue(text) {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

/** Create sends every filled field; booleans are always filled. */
function createBody(values) {
  const body = {};
  for (const field of TEXT_FIELDS) {
    const filled = field === 'password' ? values[field] !== '' : values[field].trim() !== '';
    if (filled) body[field] = field === 'port' ? portValue(values[field]) : values[field];
  }
  for (const field of FLAG_FIELDS) body[field] = values[field];
  return body;
}

/** Edit sends only what differs from the loaded notifier; an empty password keeps the stored one. */
function patchBody(values, loaded) {
  const body = {};
  for (const field of TEXT_FIELDS) {
    if (field === 'password') {
      if (values.password !== '') body.password = values.password;
    } else if (values[field] !== String(loaded[field] ?? '')) {
      body[field] = field === 'port' ? portValue(values[field]) : values[field];
    }
  }
  for (const field of FLAG_FIELDS) {
    if (values[field] !== Boolean(loaded[field])) body[field] = values[field];
  }
  return body;
}

function onNotifierSubmit(event) {
  event.preventDefault();
  const button = $('#form-submit');
  busy(() => withSubmitLock(button, saveNotifier));
}

async function saveNotifier() {
  const form = $('#notifier-form');
  clearErrors(form, 'error-');
  const problems = browserProblems(form);
  if (problems) return showFieldErrors(problems, notifierErrorTargets);
  const values = readNotifierForm();
  const creating = editor.mode === 'create';
  const body = creating ? createBody(values) : patchBody(values, editor.loaded);
  if (!creating && Object.keys(body).length === 0) {
    $('#form-dialog').close();
    tell(editor.id, 'Nothing changed.');
    return;
  }
  setLine($('#form-status'), creating ? 'Creating…' : 'Saving…');
  const { ticket, id } = editor;
  const res = creating
    ? await request('POST', API, body)
    : await request('PATCH', `${API}/${id}`, body);
  handleSaveResult(res, creating, ticket);
  if (res.ok || res.status === 404) await refreshView();
  if (res.ok) tell(res.data.id, `${creating ? 'Created' : 'Saved'} “${res.data.name}”.`, 'ok');
}

const notifierErrorTargets = {
  fields: [...TEXT_FIELDS, ...FLAG_FIELDS],
  errorPrefix: 'error-',
  inputPrefix: 'field-',
};

function handleSaveResult(res, creating, ticket) {
  const dialog = $('#form-dialog');
  const open = stillOpen(dialog, ticket);
  if (open) setLine($('#form-status'), '');
  if (res.ok) {
    if (open) dialog.close();
  } else if (res.status === 400) {
    if (open) showFieldErrors(res.data, notifierErrorTargets);
    else say('Not saved: the server rejected the values.', 'error');
  } else if (res.status === 404 && !creating) {
    if (open) dialog.close();
    reportFailure(res);
  } else {
    reportFailure(res, open ? $('#form-status') : null);
  }
}

/** Shows fresh data in the view on screen after a change. */
async function refreshView() {
  if (!state.token) return;
  if (document.body.dataset.view === 'notifier' && detail.id !== null) await loadNotifier(detail.id);
  else if (can(PERM.list)) await loadList();
}

/* ---------- confirmation (delete a notifier, stop DKIM signing) ---------- */

const confirmer = { run: null, ticket: 0 };

function openConfirm({ heading, text, button, run }, opener) {
  $('#confirm-heading').textContent = heading;
  $('#confirm-text').textContent = text;
  $('#confirm-delete').textContent = button;
  setLine($('#confirm-status'), '');
  confirmer.run = run;
  // Cancel gets focus first: the safe choice for a stray Enter.
  confirmer.ticket = openDialog($('#confirm-dialog'), opener, '#confirm-cancel');
}

function onConfirmDelete() {
  const { run, ticket } = confirmer;
  if (run) busy(() => withSubmitLock($('#confirm-delete'), () => run(ticket)));
}

/* ---------- delete ---------- */

function openDelete(id, opener) {
  const notifier = known(id);
  if (!notifier) return;
  const { name } = notifier;
  openConfirm({
    heading: 'Delete notifier',
    text: `Delete “${name}” (${notifier.host}:${notifier.port})? This cannot be undone.`,
    button: 'Delete',
    run: (ticket) => deleteNotifier(id, name, ticket),
  }, opener);
}

async function deleteNotifier(id, name, ticket) {
  const dialog = $('#confirm-dialog');
  say('');
  setLine($('#confirm-status'), 'Deleting…');
  const res = await request('DELETE', `${API}/${id}`);
  const open = stillOpen(dialog, ticket);
  if (open) setLine($('#confirm-status'), '');
  if (res.ok || res.status === 404) {
    if (open) dialog.close();
    if (res.ok) say(`Deleted “${name}”.`, 'ok');
    else reportFailure(res);
    // From its own page, back to the list; on the list, the last row of a later page is
    // gone: show the page before it instead.
    if (document.body.dataset.view === 'notifier') {
      detail.id = null;
      pushHash(listHash());
      await route();
      return;
    }
    if (state.rows.size === 1 && state.rows.has(id) && state.page > 1) {
      state.page -= 1;
      history.replaceState(null, '', listHash());
    }
    await refreshView();
    return;
  }
  reportFailure(res, open ? $('#confirm-status') : null);
}

/* ---------- test: a staged report, with a spinner and Cancel while it runs ---------- */

const tester = { id: null, ticket: 0, abort: null };

function describeNotifier(notifier) {
  return `“${notifier.name}” · ${notifier.host}:${notifier.port} · ${tlsMode(notifier)}`;
}

function openTest(id, opener) {
  const notifier = known(id);
  if (!notifier) return;
  tester.abort?.abort();
  const form = $('#test-form');
  form.reset();
  clearErrors(form, 'test-error-');
  setLine($('#test-result'), '');
  showTestReport(null);
  $('#test-subject').textContent = describeNotifier(notifier);
  tester.id = id;
  tester.ticket = openDialog($('#test-dialog'), opener, '#test-to');
}

function onTestSubmit(event) {
  event.preventDefault();
  busy(() => withSubmitLock($('#test-submit'), runTest));
}

async function runTest() {
  const { id, ticket } = tester;
  const dialog = $('#test-dialog');
  const result = $('#test-result');
  const form = $('#test-form');
  clearErrors(form, 'test-error-');
  const problems = browserProblems(form);
  if (problems) return showFieldErrors(problems, testErrorTargets);
  const to = $('#test-to').value.trim();
  setLine(result, '');
  showTestReport(null);
  const controller = new AbortController();
  tester.abort = controller;
  showTestProgress(to ? 'Connecting and sending a test message…' : 'Connecting…');
  const res = await request('POST', `${API}/${id}/test`, to ? { to } : {}, { signal: controller.signal });
  if (tester.abort === controller) tester.abort = null;
  $('#test-progress').hidden = true;
  if (!stillOpen(dialog, ticket)) return reportLateTest(res, id);
  if (res.aborted) {
    setLine(result, 'Test cancelled. Nothing more will be shown for it.');
    $('#test-submit').focus();
    return;
  }
  if (res.ok) return showTestResult(result, res.data);
  if (res.status === 400) return showFieldErrors(res.data, testErrorTargets);
  if (res.status === 404) dialog.close();
  reportFailure(res, result);
  if (res.status === 404) await refreshView();
}

const testErrorTargets = { fields: ['to'], errorPrefix: 'test-error-', inputPrefix: 'test-' };

/** The spinner with its Cancel while a test runs (null: none running). */
function showTestProgress(text) {
  $('#test-progress').hidden = text === null;
  $('#test-progress-text').textContent = text || '';
  if (text !== null) $('#test-cancel').focus();
}

function onTestCancel() {
  tester.abort?.abort();
}

function testSummary(data) {
  const outcome = data.success ? 'Success' : 'Failed';
  return `${outcome}: ${data.detail} (${data.duration_ms} ms)`;
}

function showTestResult(element, data) {
  setLine(element, testSummary(data), data.success ? 'ok' : 'error');
  showTestReport(data);
}

/** The steps as a checklist with timings, and the hint for a known mistake. */
function showTestReport(data) {
  const steps = data && Array.isArray(data.steps) ? data.steps : [];
  $('#test-steps').replaceChildren(...steps.map(stepItem));
  $('#test-steps').hidden = steps.length === 0;
  const hint = data && typeof data.hint === 'string' ? data.hint : '';
  $('#test-advice-text').textContent = hint;
  $('#test-advice').hidden = !hint;
}

function stepItem(step) {
  const item = document.createElement('li');
  item.className = `step ${step.ok ? 'step-ok' : 'step-failed'}`;
  item.dataset.step = String(step.step);
  item.dataset.ok = String(Boolean(step.ok));
  const mark = document.createElement('span');
  mark.className = 'step-mark';
  mark.setAttribute('aria-hidden', 'true');
  mark.textContent = step.ok ? '✓' : '✕';
  const name = document.createElement('span');
  name.className = 'step-name';
  name.textContent = STEP_LABELS[step.step] || String(step.step);
  const outcome = document.createElement('span');
  outcome.className = 'visually-hidden';
  outcome.textContent = step.ok ? ': passed' : ': failed';
  const time = document.createElement('span');
  time.className = 'step-time';
  time.textContent = `${Number(step.duration_ms) || 0} ms`;
  const detailLine = document.createElement('p');
  detailLine.className = 'step-detail';
  detailLine.textContent = step.detail || '';
  detailLine.hidden = !step.detail;
  item.append(mark, name, outcome, time, detailLine);
  return item;
}

/** The dialog was closed while the test ran: the outcome still deserves a sentence, by its row. */
function reportLateTest(res, id) {
  if (res.aborted) return;
  const name = known(id)?.name;
  const who = name ? `Test of “${name}”` : 'Test';
  if (res.ok) tell(id, `${who}: ${testSummary(res.data)}${res.data.hint ? ` ${res.data.hint}` : ''}`, res.data.success ? 'ok' : 'error');
  else if (res.status !== 400) reportFailure(res);
}

/* ---------- send ---------- */

const sender = { id: null, ticket: 0 };

function openSend(id, opener) {
  const notifier = known(id);
  if (!notifier) return;
  const form = $('#send-form');
  form.reset();
  clearErrors(form, 'send-error-');
  setLine($('#send-result'), '');
  showDeliveryLink(null);
  $('#send-subject-line').textContent = `From ${notifier.from_email} via ${describeNotifier(notifier)}`;
  sender.id = id;
  sender.ticket = openDialog($('#send-dialog'), opener, '#send-to');
}

function addressList(text) {
  return text.split(/[,;\n]/).map((part) => part.trim()).filter(Boolean);
}

/** /send's body: to, subject and body always; optional parts only when filled. */
function sendBody() {
  const value = (name) => $(`#send-${name}`).value;
  const body = { to: addressList(value('to')), subject: value('subject'), body: value('body') };
  for (const name of ['cc', 'bcc']) {
    const list = addressList(value(name));
    if (list.length) body[name] = list;
  }
  if (value('reply_to').trim()) body.reply_to = value('reply_to').trim();
  if (value('html_body').trim()) body.html_body = value('html_body');
  return body;
}

function onSendSubmit(event) {
  event.preventDefault();
  busy(() => withSubmitLock($('#send-submit'), sendMessage));
}

const sendErrorTargets = { fields: SEND_FIELDS, errorPrefix: 'send-error-', inputPrefix: 'send-' };

async function sendMessage() {
  const { id, ticket } = sender;
  const dialog = $('#send-dialog');
  const result = $('#send-result');
  const form = $('#send-form');
  clearErrors(form, 'send-error-');
  showDeliveryLink(null);
  const problems = browserProblems(form);
  if (problems) return showFieldErrors(problems, sendErrorTargets);
  setLine(result, 'Sending…');
  const res = await request('POST', `${API}/${id}/send`, sendBody());
  const open = stillOpen(dialog, ticket);
  if (open) setLine(result, '');
  if (open && res.data && Number.isInteger(res.data.delivery)) showDeliveryLink(res.data.delivery);
  const name = known(id)?.name ?? `#${id}`;
  if (res.ok) return showSendResult(open ? result : null, res.data, id, name);
  if (res.status === 400 && open) return showFieldErrors(res.data, sendErrorTargets);
  if (res.status === 502) return showSmtpFailure(open ? result : null, res.data, id, name);
  if (res.status === 404 && open) dialog.close();
  reportFailure(res, open ? result : null);
  if (res.status === 404) await refreshView();
}

/** In the dialog when it is open; else by the notifier's row, naming it. */
function showSendResult(element, data, id, name) {
  // sent = 0 only happens when the SMTP exchange failed on a fail_silently notifier.
  const text = data.sent
    ? `Sent (message id ${data.message_id})`
    : `Not sent: the SMTP exchange failed and this notifier fails silently (${data.detail}).`;
  const tone = data.sent ? 'ok' : 'error';
  if (element) setLine(element, text, tone);
  else tell(id, `“${name}”: ${text}`, tone);
}

/** 502: the SMTP exchange failed; the body's detail ("SMTP error: ...") says why. */
function showSmtpFailure(element, data, id, name) {
  const detailText = data && typeof data.detail === 'string' ? data.detail : MSG.server;
  if (element) setLine(element, `Failed: ${detailText}`, 'error');
  else tell(id, `Sending through “${name}” failed: ${detailText}`, 'error');
}

/** With 2836, a button under the send result that opens the delivery it recorded. */
function showDeliveryLink(id) {
  const link = $('#send-delivery-link');
  $('#send-delivery').hidden = id === null || !can(PERM.deliveries);
  link.dataset.id = id === null ? '' : String(id);
  link.textContent = id === null ? '' : `Show delivery ${id}`;
}

function onDeliveryLinkClick() {
  const id = Number($('#send-delivery-link').dataset.id);
  if (!id) return;
  $('#send-dialog').close();
  history.pushState(null, '', '#deliveries');
  busy(async () => {
    await route();
    await openDelivery(id, null);
  });
}

/* ---------- one notifier (2832): settings, authentication and DKIM ---------- */

const detail = { id: null, notifier: null };

async function showNotifier(id) {
  deliveries.abort?.abort();
  showView('notifier');
  $('#back-to-list').setAttribute('href', listHash());
  if (detail.id !== id) {
    // Another notifier: nothing of the previous one may show while this one loads.
    for (const element of ['#notifier-note', '#auth-status', '#dkim-status', '#dkim-copy-status']) setLine($(element), '');
    $('#notifier-panels').hidden = true;
  }
  detail.id = id;
  await loadNotifier(id);
  $('#notifier-heading').focus();
}

/** The notifier, how it logs in and its DKIM settings, fetched together. */
async function loadNotifier(id) {
  const path = `${API}/${id}`;
  const [res, auth, dkim] = await Promise.all([
    request('GET', path),
    request('GET', `${path}/authentication`),
    request('GET', `${path}/dkim`),
  ]);
  if (detail.id !== id || document.body.dataset.view !== 'notifier') return;
  if (!res.ok) {
    if (res.status === 401) return expireSession();
    detail.notifier = null;
    $('#notifier-heading').textContent = res.status === 404 ? 'Notifier not found' : 'Notifier';
    $('#notifier-sub').textContent = '';
    $('#notifier-panels').hidden = true;
    $('#notifier-readonly').hidden = true;
    for (const button of $('#detail-actions').children) button.hidden = true;
    setLine($('#notifier-note'), `${sentence(res)} Go back to all notifiers to pick another.`, 'error');
    return;
  }
  detail.notifier = res.data;
  renderNotifier(res.data);
  renderAuth(auth);
  renderDkim(dkim);
  $('#notifier-panels').hidden = false;
  loadHistory(id, 1);
}

/* history: the notifier's audit records (code 2837) */

const audit = { id: null, page: 1 };

/** One page of the notifier's audit records; page 1 replaces the list, later pages add to it. */
async function loadHistory(id, page) {
  const panel = $('#history-panel');
  panel.hidden = !can(PERM.audit);
  if (panel.hidden) return;
  audit.id = id;
  audit.page = page;
  const res = await request('GET', `${AUDIT}?notifier=${id}&page=${page}&page_size=${HISTORY_PAGE}`);
  if (audit.id !== id || detail.id !== id) return;
  const list = $('#history-list');
  if (page === 1) list.replaceChildren();
  $('#history-load-error').hidden = res.ok;
  if (!res.ok) {
    $('#history-load-error').textContent = sentence(res);
    $('#history-more').hidden = true;
    return;
  }
  for (const record of res.data.results) list.append(historyItem(record));
  $('#history-empty').hidden = list.children.length > 0;
  $('#history-more').hidden = !res.data.next;
}

function historyItem(record) {
  const item = document.createElement('li');
  const head = document.createElement('div');
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = `${record.actor} · ${record.action}`;
  const time = document.createElement('time');
  fillTime(time, record.at);
  head.append(who, ' · ', time);
  item.append(head);
  const changes = Object.entries(record.changes || {});
  if (changes.length > 0) {
    const list = document.createElement('ul');
    list.className = 'changes';
    for (const [field, change] of changes) {
      const line = document.createElement('li');
      // A create has no old values: only the new ones are worth reading.
      const [before, after] = Array.isArray(change) ? change : [undefined, change];
      line.textContent = Array.isArray(change) && before !== null
        ? `${field}: ${historyValue(before)} → ${historyValue(after)}`
        : `${field}: ${historyValue(after)}`;
      list.append(line);
    }
    item.append(list);
  }
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = [record.client_ip && `from ${record.client_ip}`, record.request_id && `request ${record.request_id}`]
    .filter(Boolean)
    .join(' · ');
  if (meta.textContent) item.append(meta);
  return item;
}

function historyValue(value) {
  if (value === null || value === undefined) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function onHistoryMore() {
  if (audit.id !== null) loadHistory(audit.id, audit.page + 1);
}

function renderNotifier(notifier) {
  document.title = `${notifier.name} · notifier`;
  $('#notifier-heading').textContent = notifier.name;
  $('#notifier-sub').textContent = `#${notifier.id} · ${notifier.host}:${notifier.port} · ${tlsMode(notifier)}`;
  const texts = {
    host: notifier.host,
    port: String(notifier.port),
    username: notifier.username,
    password: 'Stored (never shown)',
    from_email: notifier.from_email,
    tls: notifier.use_ssl ? 'Implicit TLS (SSL)' : notifier.use_tls ? 'STARTTLS' : 'Plain SMTP, no TLS',
    fail_silently: notifier.fail_silently ? 'Yes: a failed send answers “not sent”' : 'No',
  };
  for (const [field, text] of Object.entries(texts)) $(`#nf-${field}`).textContent = text;
  for (const field of ['created_at', 'updated_at']) {
    const time = document.createElement('time');
    fillTime(time, notifier[field]);
    $(`#nf-${field}`).replaceChildren(time);
  }
  const actions = {
    '#detail-edit': can(PERM.edit),
    '#detail-test': can(PERM.send),
    '#detail-send': can(PERM.send),
    '#detail-delete': can(PERM.remove),
  };
  for (const [button, allowed] of Object.entries(actions)) $(button).hidden = !allowed;
  $('#notifier-readonly').hidden = can(PERM.edit);
}

/** The page's buttons carry the row buttons' classes, so they open the same dialogs. */
function onDetailAction(event) {
  const button = event.target.closest('button');
  if (button && detail.notifier !== null) openAction(button, detail.notifier.id);
}

/* authentication: password, none, or OAuth2 with the Microsoft / Google shortcuts */

function renderAuth(res) {
  const form = $('#auth-form');
  clearErrors(form, 'auth-error-');
  $('#auth-load-error').hidden = res.ok;
  form.hidden = !res.ok;
  if (!res.ok) {
    $('#auth-load-error').textContent = sentence(res);
    return;
  }
  fillAuth(res.data);
}

function fillAuth(data) {
  const method = AUTH_METHODS.includes(data && data.method) ? data.method : 'password';
  $(`#auth-method-${method}`).checked = true;
  const oauth = (data && data.xoauth2) || {};
  $('#auth-provider').value = ['microsoft', 'google'].includes(oauth.provider) ? oauth.provider : '';
  $('#auth-grant').value = oauth.grant === 'refresh_token' ? 'refresh_token' : 'client_credentials';
  // Secrets come back as ********: left so, a PUT keeps the stored ones.
  for (const field of ['tenant', 'token_url', 'scope', 'client_id', 'client_secret', 'refresh_token']) {
    $(`#auth-${field}`).value = oauth[field] == null ? '' : String(oauth[field]);
  }
  $('#auth-current').textContent = `In use: ${authSummary(method, oauth)}.`;
  const editable = can(PERM.edit);
  $('#auth-fields').disabled = !editable;
  $('#auth-submit').hidden = !editable;
  updateAuthFields();
}

/** The stored method in words, so it reads plainly even where the form is disabled. */
function authSummary(method, oauth) {
  if (method === 'none') return 'no login';
  if (method === 'password') return 'password (AUTH PLAIN or LOGIN)';
  const providers = { microsoft: 'Microsoft 365', google: 'Google' };
  const by = providers[oauth.provider] ? ` with ${providers[oauth.provider]}` : '';
  const grant = oauth.grant === 'refresh_token' ? 'refresh token' : 'client credentials';
  return `OAuth2${by} (${grant}, client ${oauth.client_id || '?'})`;
}

/** Shows the OAuth2 fields the method, provider and grant call for; the rest are disabled,
 * so the browser's checks skip them. */
function updateAuthFields() {
  const oauth = $('#auth-method-xoauth2').checked;
  const provider = $('#auth-provider').value;
  const grant = provider === 'google' ? 'refresh_token' : $('#auth-grant').value;
  showPart($('#auth-oauth'), oauth);
  showPart($('#auth-tenant-field'), oauth && provider === 'microsoft');
  showPart($('#auth-grant-field'), oauth && provider !== 'google');
  showPart($('#auth-token_url-field'), oauth && !provider);
  showPart($('#auth-scope-field'), oauth && !provider);
  showPart($('#auth-refresh_token-field'), oauth && grant === 'refresh_token');
}

function showPart(element, shown) {
  element.hidden = !shown;
  for (const input of element.querySelectorAll('input, select, textarea')) input.disabled = !shown;
  if (element.matches('input, select, textarea')) element.disabled = !shown;
}

function authBody() {
  const method = $('#auth-form').querySelector('input[name="method"]:checked')?.value || 'password';
  if (method !== 'xoauth2') return { method };
  const value = (field) => $(`#auth-${field}`).value;
  const provider = value('provider');
  const xoauth2 = { client_id: value('client_id').trim(), client_secret: value('client_secret') };
  if (provider) xoauth2.provider = provider;
  if (provider === 'microsoft') xoauth2.tenant = value('tenant').trim();
  if (provider !== 'google') xoauth2.grant = value('grant');
  if (!provider) {
    xoauth2.token_url = value('token_url').trim();
    xoauth2.scope = value('scope').trim();
  }
  const grant = provider === 'google' ? 'refresh_token' : value('grant');
  if (grant === 'refresh_token') xoauth2.refresh_token = value('refresh_token');
  return { method, xoauth2 };
}

const authErrorTargets = { fields: AUTH_FIELDS, errorPrefix: 'auth-error-', inputPrefix: 'auth-' };

function onAuthSubmit(event) {
  event.preventDefault();
  busy(() => withSubmitLock($('#auth-submit'), saveAuth));
}

function saveAuth() {
  return savePanel({
    form: $('#auth-form'),
    targets: authErrorTargets,
    line: $('#auth-status'),
    path: 'authentication',
    body: authBody,
    saving: 'Saving…',
    saved: (res) => {
      fillAuth(res.data);
      flash($('#auth-status'), 'Authentication saved.', 'ok');
    },
  });
}

/**
 * PUTs a panel's settings after the browser's checks: field errors beside their fields,
 * anything else in the panel's own status line.
 */
async function savePanel({ form, targets, line, path, body, saving, saved }) {
  const id = detail.id;
  clearErrors(form, targets.errorPrefix);
  const problems = browserProblems(form);
  if (problems) return showFieldErrors(problems, targets);
  setLine(line, saving);
  const res = await request('PUT', `${API}/${id}/${path}`, body());
  if (detail.id !== id) return;
  setLine(line, '');
  if (res.ok) saved(res);
  else if (res.status === 400) showFieldErrors(unnested(res.data), targets);
  else reportFailure(res, line);
}

/** DRF nests the OAuth2 object's errors ({"xoauth2": {"token_url": [...]}}): its keys are
 * the form's fields. */
function unnested(data) {
  const nested = data && data.xoauth2;
  if (!nested || typeof nested !== 'object' || Array.isArray(nested)) return data;
  const { xoauth2: _, ...rest } = data;
  return { ...rest, ...nested };
}

/* DKIM: the settings, the DNS record to publish (with Copy), and stop signing */

function renderDkim(res) {
  const form = $('#dkim-form');
  clearErrors(form, 'dkim-error-');
  const none = res.status === 404;
  const failed = !res.ok && !none;
  $('#dkim-load-error').hidden = !failed;
  if (failed) $('#dkim-load-error').textContent = sentence(res);
  const dkim = res.ok ? res.data : null;
  const editable = can(PERM.edit);
  $('#dkim-state').textContent = dkim
    ? `Signing as ${dkim.domain} with selector “${dkim.selector}” (${dkim.algorithm}).`
    : none ? 'Not signing: messages go out without a DKIM signature.' : '';
  $('#dkim-record').hidden = !dkim;
  if (dkim) {
    const record = dkim.public_key_dns || {};
    $('#dkim-dns-name').textContent = record.name || '';
    $('#dkim-dns-type').textContent = record.type || '';
    $('#dkim-dns-value').textContent = record.value || '';
  }
  setLine($('#dkim-copy-status'), '');
  form.hidden = failed || !editable;
  $('#dkim-submit').hidden = !editable;
  $('#dkim-submit').textContent = dkim ? 'Save DKIM settings' : 'Start signing';
  $('#dkim-delete').hidden = !editable || !dkim;
  $('#dkim-key-hint').textContent = dkim
    ? 'Empty: the server makes a new key pair, and the DNS record changes. The key is never shown.'
    : 'Empty: the server makes a new key pair. The key is never shown.';
  form.reset();
  if (dkim) {
    $('#dkim-domain').value = dkim.domain;
    $('#dkim-selector').value = dkim.selector;
    $('#dkim-algorithm').value = dkim.algorithm;
  } else if (detail.notifier) {
    $('#dkim-domain').value = detail.notifier.from_email.split('@').pop() || '';
  }
}

const dkimErrorTargets = { fields: DKIM_FIELDS, errorPrefix: 'dkim-error-', inputPrefix: 'dkim-' };

function onDkimSubmit(event) {
  event.preventDefault();
  busy(() => withSubmitLock($('#dkim-submit'), saveDkim));
}

function dkimBody() {
  const body = {
    domain: $('#dkim-domain').value.trim(),
    selector: $('#dkim-selector').value.trim(),
    algorithm: $('#dkim-algorithm').value,
  };
  if ($('#dkim-private_key').value.trim()) body.private_key = $('#dkim-private_key').value;
  return body;
}

function saveDkim() {
  return savePanel({
    form: $('#dkim-form'),
    targets: dkimErrorTargets,
    line: $('#dkim-status'),
    path: 'dkim',
    body: dkimBody,
    saving: $('#dkim-private_key').value.trim() ? 'Saving…' : 'Saving and making a key pair…',
    saved: (res) => {
      renderDkim(res);
      flash($('#dkim-status'), 'DKIM settings saved. Publish the DNS record shown above.', 'ok');
    },
  });
}

function onDkimDelete(event) {
  const name = detail.notifier ? detail.notifier.name : `#${detail.id}`;
  const id = detail.id;
  openConfirm({
    heading: 'Stop DKIM signing',
    text: `Stop signing mail from “${name}” with DKIM? Its key is deleted; signing again makes a new one.`,
    button: 'Stop signing',
    run: (ticket) => deleteDkim(id, ticket),
  }, event.currentTarget);
}

async function deleteDkim(id, ticket) {
  const dialog = $('#confirm-dialog');
  setLine($('#confirm-status'), 'Stopping…');
  const res = await request('DELETE', `${API}/${id}/dkim`);
  const open = stillOpen(dialog, ticket);
  if (open) setLine($('#confirm-status'), '');
  if (res.ok || res.status === 404) {
    if (open) dialog.close();
    if (detail.id !== id) return;
    renderDkim({ ok: false, status: 404, data: null });
    flash($('#dkim-status'), 'DKIM signing stopped.', 'ok');
    return;
  }
  reportFailure(res, open ? $('#confirm-status') : $('#dkim-status'));
}

/** Copies a DNS record's part; where the clipboard is refused, selects it for Ctrl+C. */
async function onCopyClick(event) {
  const button = event.target.closest('.copy-button');
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  const what = button.dataset.copy === 'dkim-dns-name' ? 'record name' : 'record value';
  const status = $('#dkim-copy-status');
  try {
    await navigator.clipboard.writeText(source.textContent);
    flash(status, `Copied the ${what}.`, 'ok');
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    setLine(status, `The ${what} is selected: press Ctrl+C (⌘C on a Mac) to copy it.`);
  }
}

/* ---------- deliveries (2836) ---------- */

const deliveries = {
  page: 1,
  pageSize: 20,
  notifier: '',
  status: '',
  ordering: '-created_at',
  count: 0,
  rows: new Map(),
  abort: null,
};
const DELIVERY_ORDERINGS = ['created_at', '-created_at', 'id', '-id'];

function forgetDeliveries() {
  deliveries.abort?.abort();
  Object.assign(deliveries, { page: 1, pageSize: 20, notifier: '', status: '', ordering: '-created_at', count: 0 });
  deliveries.rows.clear();
  $('#delivery-rows').replaceChildren();
  $('#delivery-table').removeAttribute('aria-busy');
}

/** The filters, page and ordering from #deliveries?…, each checked; anything odd is dropped. */
function readDeliveryHash() {
  const query = location.hash.replace(/^#deliveries\??/, '');
  const params = new URLSearchParams(query);
  const pick = (key, ok, fallback) => (ok(params.get(key)) ? params.get(key) : fallback);
  const positive = (v) => /^[1-9]\d{0,8}$/.test(v || '');
  Object.assign(deliveries, {
    notifier: pick('notifier', positive, ''),
    status: pick('status', (v) => STATUSES.includes(v), ''),
    ordering: pick('ordering', (v) => DELIVERY_ORDERINGS.includes(v), '-created_at'),
    page: Number(pick('page', positive, '1')),
    pageSize: Number(pick('page_size', (v) => PAGE_SIZES.includes(Number(v)), '20')),
  });
}

/** The location shows the current filters, so a reload or a shared link shows the same list. */
function writeDeliveryHash() {
  const params = new URLSearchParams();
  if (deliveries.notifier) params.set('notifier', deliveries.notifier);
  if (deliveries.status) params.set('status', deliveries.status);
  if (deliveries.ordering !== '-created_at') params.set('ordering', deliveries.ordering);
  if (deliveries.page > 1) params.set('page', String(deliveries.page));
  if (deliveries.pageSize !== 20) params.set('page_size', String(deliveries.pageSize));
  const query = params.toString();
  const hash = `#deliveries${query ? `?${query}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

async function showDeliveries() {
  readDeliveryHash();
  showView('deliveries');
  const byList = can(PERM.list);
  $('#filter-notifier-choice').hidden = !byList;
  $('#filter-notifier-entry').hidden = byList;
  $('#filter-apply').hidden = byList;
  $('#filter-notifier-id').value = deliveries.notifier;
  $('#filter-status').value = deliveries.status;
  $('#delivery-page-size').value = String(deliveries.pageSize);
  clearFilterError();
  if (byList) await loadNotifierChoices();
  await loadDeliveries();
  $('#deliveries-heading').focus();
}

/** The notifier filter's options: every notifier by name (up to 1000), plus the filtered one. */
async function loadNotifierChoices() {
  const select = $('#filter-notifier');
  const options = [];
  for (let page = 1; page <= 10; page += 1) {
    const res = await request('GET', `${API}?ordering=name&page_size=100&page=${page}`);
    if (!res.ok) break;
    for (const notifier of res.data.results || []) {
      options.push(new Option(`${notifier.name} (#${notifier.id})`, String(notifier.id)));
    }
    if (!res.data.next) break;
  }
  const wanted = deliveries.notifier;
  if (wanted && !options.some((option) => option.value === wanted)) {
    options.push(new Option(`Notifier #${wanted}`, wanted));
  }
  select.replaceChildren(new Option('All notifiers', ''), ...options);
  select.value = wanted;
}

function deliveriesUrl() {
  const params = new URLSearchParams({
    page: String(deliveries.page),
    page_size: String(deliveries.pageSize),
    ordering: deliveries.ordering,
  });
  if (deliveries.notifier) params.set('notifier', deliveries.notifier);
  if (deliveries.status) params.set('status', deliveries.status);
  return `${DELIVERIES}?${params}`;
}

async function loadDeliveries() {
  deliveries.abort?.abort();
  const controller = new AbortController();
  deliveries.abort = controller;
  $('#delivery-table').setAttribute('aria-busy', 'true');
  const res = await request('GET', deliveriesUrl(), undefined, { signal: controller.signal });
  if (res.aborted) return;
  deliveries.abort = null;
  $('#delivery-table').removeAttribute('aria-busy');
  if (res.ok) return renderDeliveries(res.data);
  if (res.status === 404 && deliveries.page > 1) {
    const last = Math.max(1, Math.ceil(deliveries.count / deliveries.pageSize));
    deliveries.page = last < deliveries.page ? last : 1;
    return loadDeliveries();
  }
  if (res.status === 400) return showFilterError(res.data);
  reportFailure(res);
}

function renderDeliveries(data) {
  const results = Array.isArray(data.results) ? data.results : [];
  deliveries.count = Number(data.count) || 0;
  deliveries.rows = new Map(results.map((delivery) => [delivery.id, delivery]));
  $('#delivery-rows').replaceChildren(...results.map(buildDeliveryRow));
  const empty = $('#delivery-empty');
  empty.hidden = results.length > 0;
  const filtered = deliveries.notifier || deliveries.status;
  empty.textContent = filtered ? 'No deliveries match these filters.' : 'No deliveries yet.';
  const pages = Math.max(1, Math.ceil(deliveries.count / deliveries.pageSize));
  const noun = deliveries.count === 1 ? 'delivery' : 'deliveries';
  $('#delivery-page-info').textContent = `Page ${deliveries.page} of ${pages} · ${deliveries.count} ${noun}`;
  setDisabled($('#delivery-prev'), deliveries.page <= 1, $('#delivery-next'));
  setDisabled($('#delivery-next'), deliveries.page >= pages, $('#delivery-prev'));
  renderSort('#delivery-table', deliveries.ordering);
  if (document.body.dataset.view === 'deliveries') writeDeliveryHash();
}

/** A status as a badge: its word (never colour alone) and a class for its colour and mark. */
function fillBadge(badge, status) {
  badge.className = `status-badge status-${STATUSES.includes(status) ? status : 'unknown'}`;
  badge.textContent = status ? status[0].toUpperCase() + status.slice(1) : 'Unknown';
}

function buildDeliveryRow(delivery) {
  const row = $('#delivery-row-template').content.firstElementChild.cloneNode(true);
  row.dataset.id = String(delivery.id);
  row.dataset.status = delivery.status;
  const cell = (name) => row.querySelector(`.col-${name}`);
  cell('id').textContent = String(delivery.id);
  fillBadge(row.querySelector('.status-badge'), delivery.status);
  cell('notifier').textContent = notifierLabel(delivery);
  cell('to').textContent = (delivery.to || []).join(', ');
  cell('subject').textContent = delivery.subject;
  cell('attempts').textContent = String(delivery.attempts);
  fillTime(cell('created').querySelector('time'), delivery.created_at);
  const details = row.querySelector('.details-button');
  details.setAttribute('aria-label', `Details of delivery ${delivery.id}`);
  return row;
}

function notifierLabel(delivery) {
  return delivery.notifier === null ? `${delivery.notifier_name} (deleted)` : delivery.notifier_name;
}

function clearFilterError() {
  const error = $('#filter-error');
  error.hidden = true;
  error.replaceChildren();
  for (const input of $('#delivery-filters').querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** 400 on the list: a filter the API refused, e.g. {"notifier": ["Enter a number."]}. */
function showFilterError(data) {
  clearFilterError();
  const error = $('#filter-error');
  const body = data && typeof data === 'object' ? data : { detail: 'The filters were rejected.' };
  const labels = { notifier: 'Notifier', status: 'Status' };
  for (const [key, value] of Object.entries(body)) {
    error.append(...messagesOf(value).map((m) => lineSpan(labels[key] ? `${labels[key]}: ${m}` : m)));
    const input = key === 'status' ? $('#filter-status') : key === 'notifier' ? notifierFilterInput() : null;
    input?.setAttribute('aria-invalid', 'true');
  }
  error.hidden = false;
  $('#delivery-rows').replaceChildren();
  $('#delivery-empty').hidden = true;
}

function notifierFilterInput() {
  return can(PERM.list) ? $('#filter-notifier') : $('#filter-notifier-id');
}

/** Selects apply at once; the number field on Enter, Apply or leaving it. */
function applyFilters() {
  const notifier = notifierFilterInput().value.trim();
  const status = $('#filter-status').value;
  if (notifier === deliveries.notifier && status === deliveries.status) return;
  Object.assign(deliveries, { notifier, status, page: 1 });
  clearFilterError();
  busy(loadDeliveries);
}

function clearFilters() {
  $('#filter-notifier').value = '';
  $('#filter-notifier-id').value = '';
  $('#filter-status').value = '';
  applyFilters();
}

function onDeliverySortClick(event) {
  const button = event.target.closest('.sort-button');
  if (!button) return;
  const field = button.dataset.sort;
  // Newest first is the natural first click for both columns.
  deliveries.ordering = deliveries.ordering === `-${field}` ? field : `-${field}`;
  deliveries.page = 1;
  busy(loadDeliveries);
}

function onDeliveryRowClick(event) {
  const button = event.target.closest('.details-button');
  const row = button && button.closest('tr[data-id]');
  if (row) busy(() => openDelivery(Number(row.dataset.id), button));
}

/* one delivery: every field, and Retry / Cancel when 2835 and the state allow them */

const inspector = { id: null, ticket: 0 };

async function openDelivery(id, opener) {
  const res = await request('GET', `${DELIVERIES}/${id}`);
  if (!res.ok) {
    reportFailure(res, null, MSG.deliveryGone);
    if (res.status === 404) await loadDeliveries();
    return;
  }
  const dialog = $('#delivery-dialog');
  if (dialog.open) return;
  setLine($('#delivery-result'), '');
  fillDelivery(res.data);
  inspector.id = id;
  inspector.ticket = openDialog(dialog, opener, '#delivery-heading');
}

function fillDelivery(delivery) {
  $('#delivery-heading').textContent = `Delivery ${delivery.id}`;
  fillBadge($('#delivery-badge'), delivery.status);
  const notifier = delivery.notifier === null ? notifierLabel(delivery) : `${delivery.notifier_name} (#${delivery.notifier})`;
  const list = (items) => (items && items.length ? items.join(', ') : null);
  const texts = {
    notifier,
    to: list(delivery.to),
    cc: list(delivery.cc),
    bcc: list(delivery.bcc),
    subject: delivery.subject || null,
    message_id: delivery.message_id || null,
    attempts: String(delivery.attempts),
    last_error: delivery.last_error,
    last_reply_code: delivery.last_reply_code === null ? null : String(delivery.last_reply_code),
    requested_by: delivery.requested_by || null,
  };
  for (const [field, text] of Object.entries(texts)) showDetail(field, text);
  for (const field of ['next_attempt_at', 'created_at', 'updated_at', 'sent_at']) {
    const iso = delivery[field];
    if (!iso) {
      showDetail(field, null);
      continue;
    }
    const time = document.createElement('time');
    fillTime(time, iso);
    $(`#detail-${field}`).replaceChildren(time);
  }
  const mayAct = can(PERM.send);
  setActionShown($('#delivery-retry'), mayAct && RETRYABLE.includes(delivery.status));
  setActionShown($('#delivery-cancel'), mayAct && CANCELLABLE.includes(delivery.status));
}

/** A value, or a muted "none" so an empty field still reads as a sentence. */
function showDetail(field, text) {
  const dd = $(`#detail-${field}`);
  dd.classList.toggle('none', text === null || text === undefined || text === '');
  dd.textContent = dd.classList.contains('none') ? 'none' : text;
}

/** Hides Retry or Cancel without losing keyboard focus inside the dialog. */
function setActionShown(button, shown) {
  const hadFocus = document.activeElement === button;
  button.hidden = !shown;
  if (hadFocus && !shown) $('#delivery-close').focus();
}

function onDeliveryAction(kind) {
  const button = kind === 'retry' ? $('#delivery-retry') : $('#delivery-cancel');
  busy(() => withSubmitLock(button, () => deliveryAction(kind)));
}

async function deliveryAction(kind) {
  const { id, ticket } = inspector;
  const dialog = $('#delivery-dialog');
  const result = $('#delivery-result');
  say('');
  setLine(result, kind === 'retry' ? 'Queueing again…' : 'Cancelling…');
  const res = await request('POST', `${DELIVERIES}/${id}/${kind}`);
  const open = stillOpen(dialog, ticket);
  if (open) setLine(result, '');
  if (res.ok) {
    const text = kind === 'retry' ? `Delivery ${id} is queued again.` : `Delivery ${id} is cancelled.`;
    if (open) {
      fillDelivery(res.data);
      setLine(result, text, 'ok');
    }
    say(text, 'ok');
  } else if (res.status === 409) {
    // The state changed under us (a worker sent it, say): the API's sentence, then the news.
    const text = res.data && typeof res.data.detail === 'string' ? res.data.detail : sentence(res);
    say(text, 'error');
    if (open) setLine(result, text, 'error');
    const fresh = await request('GET', `${DELIVERIES}/${id}`);
    if (fresh.ok && stillOpen(dialog, ticket)) fillDelivery(fresh.data);
  } else {
    if (res.status === 404 && open) dialog.close();
    reportFailure(res, open && res.status !== 404 ? result : null, MSG.deliveryGone);
  }
  if (state.token && res.status !== 401) await loadDeliveries();
}

/* ---------- wiring ---------- */

function bindDialog(dialogId, closeButtonId) {
  const dialog = $(dialogId);
  $(closeButtonId).addEventListener('click', () => dialog.close());
  // Escape closes natively (a "cancel" then "close" event); every way out restores focus.
  dialog.addEventListener('close', () => restoreFocus(dialog));
}

function bindEvents() {
  $('#signin-form').addEventListener('submit', onSigninSubmit);
  $('#signout-button').addEventListener('click', signOut);
  $('#create-button').addEventListener('click', (event) => openCreate(event.currentTarget));
  $('#search-input').addEventListener('input', onSearchInput);
  $('#search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    runSearch();
  });
  // Filters apply as soon as they change (the host field on Enter or when it is left).
  for (const filter of ['#filter-host', ...LIST_FLAGS.map((flag) => `#filter-${flag}`)]) {
    $(filter).addEventListener('change', runSearch);
  }
  $('#list-clear').addEventListener('click', clearListNarrowing);
  $('#empty-clear').addEventListener('click', clearListNarrowing);
  $('#empty-create').addEventListener('click', (event) => openCreate(event.currentTarget));
  $('#status-dismiss').addEventListener('click', () => say(''));
  WIDE.addEventListener('change', () => {
    if (WIDE.matches) $('#list-filters').open = true;
  });
  document.addEventListener('click', onLinkClick);
  for (const form of document.querySelectorAll('form')) form.addEventListener('click', onSummaryClick);
  $('#detail-actions').addEventListener('click', onDetailAction);
  $('#auth-form').addEventListener('submit', onAuthSubmit);
  $('#auth-form').addEventListener('change', updateAuthFields);
  $('#dkim-form').addEventListener('submit', onDkimSubmit);
  $('#dkim-delete').addEventListener('click', onDkimDelete);
  $('#dkim-record').addEventListener('click', onCopyClick);
  $('#test-cancel').addEventListener('click', onTestCancel);
  $('#notifier-table thead').addEventListener('click', onSortClick);
  $('#notifier-rows').addEventListener('click', onRowClick);
  $('#prev-page').addEventListener('click', () => goToPage(-1));
  $('#next-page').addEventListener('click', () => goToPage(1));
  $('#page-size').addEventListener('change', onPageSizeChange);
  $('#notifier-form').addEventListener('submit', onNotifierSubmit);
  $('#field-use_tls').addEventListener('change', updatePortPlaceholder);
  $('#field-use_ssl').addEventListener('change', updatePortPlaceholder);
  $('#confirm-delete').addEventListener('click', onConfirmDelete);
  $('#test-form').addEventListener('submit', onTestSubmit);
  $('#send-form').addEventListener('submit', onSendSubmit);
  bindDialog('#form-dialog', '#form-cancel');
  bindDialog('#confirm-dialog', '#confirm-cancel');
  bindDialog('#test-dialog', '#test-close');
  bindDialog('#send-dialog', '#send-close');
  $('#send-delivery-link').addEventListener('click', onDeliveryLinkClick);
  window.addEventListener('popstate', onHistoryMove);
  $('#deliveries-refresh').addEventListener('click', () => busy(loadDeliveries));
  $('#filter-notifier').addEventListener('change', applyFilters);
  $('#filter-status').addEventListener('change', applyFilters);
  $('#filter-notifier-id').addEventListener('change', applyFilters);
  $('#delivery-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilters();
  });
  $('#filter-clear').addEventListener('click', clearFilters);
  $('#delivery-table thead').addEventListener('click', onDeliverySortClick);
  $('#delivery-rows').addEventListener('click', onDeliveryRowClick);
  $('#delivery-prev').addEventListener('click', () => goToDeliveryPage(-1));
  $('#delivery-next').addEventListener('click', () => goToDeliveryPage(1));
  $('#delivery-page-size').addEventListener('change', () => {
    deliveries.pageSize = Number($('#delivery-page-size').value) || 20;
    deliveries.page = 1;
    busy(loadDeliveries);
  });
  $('#history-more').addEventListener('click', onHistoryMore);
  $('#delivery-retry').addEventListener('click', () => onDeliveryAction('retry'));
  $('#delivery-cancel').addEventListener('click', () => onDeliveryAction('cancel'));
  bindDialog('#delivery-dialog', '#delivery-close');
}

function goToDeliveryPage(delta) {
  deliveries.page = Math.max(1, deliveries.page + delta);
  busy(loadDeliveries);
}

/** Resumes a session kept in this tab, or asks for a token. */
async function start() {
  bindEvents();
  const token = storedToken();
  if (token) await signIn(token, true);
  else showSignin();
}

busy(start);
