/*
 * notifier staff dashboard (docs/API.md §8): one ES module, no build step, no dependencies.
 * It only talks to the public REST API with the pasted token, so it can do nothing the API
 * would not let that token do. The page's CSP forbids inline script and inline styles:
 * visibility is switched with the `hidden` attribute and classes, never inline styles.
 *
 * Stable hooks for browser tests (CSS selectors):
 *   body[data-state="loading"|"ready"]  ready = the current view is rendered and no request,
 *                                       debounce or list load is pending
 *   body[data-view="signin"|"list"|"deliveries"]
 *   #view-nav #nav-notifiers #nav-deliveries (the nav only with permission 2836; aria-current)
 *   #signin-form #token-input #signin-button #signin-error
 *   #signout-button #whoami #status (role=status; plain sentences for 401/403/404/413/5xx)
 *   #search-input #create-button #no-list (shown without permission 2830) #list-empty
 *   #notifier-table  tbody tr[data-id="<id>"]  .edit-button .test-button .send-button .delete-button
 *   th[data-sort] (aria-sort)  button.sort-button[data-sort="id|name|created_at|updated_at"]
 *   #prev-page #next-page #page-info #page-size
 *   #form-dialog #notifier-form #field-<name> #error-<name> #error-non_field_errors
 *     #form-submit #form-cancel #form-status
 *   #confirm-dialog #confirm-delete #confirm-cancel #confirm-status
 *   #test-dialog #test-to #test-error-to #test-submit #test-result #test-close
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
const PERM = { list: 2830, create: 2831, retrieve: 2832, edit: 2833, remove: 2834, send: 2835, deliveries: 2836 };
const STATUSES = ['queued', 'sending', 'sent', 'deferred', 'failed', 'cancelled'];
const RETRYABLE = ['failed', 'deferred'];
const CANCELLABLE = ['queued', 'deferred'];
const PAGE_SIZES = [10, 20, 50, 100];
const TEXT_FIELDS = ['name', 'host', 'port', 'username', 'password', 'from_email'];
const FLAG_FIELDS = ['use_tls', 'use_ssl', 'fail_silently'];
const SEND_FIELDS = ['to', 'cc', 'bcc', 'reply_to', 'subject', 'body', 'html_body'];
const SEARCH_DELAY_MS = 300;

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
  badPort: 'A valid integer is required.',
};

const $ = (selector) => document.querySelector(selector);

const state = {
  token: null,
  me: null,
  page: 1,
  pageSize: 20,
  search: '',
  ordering: 'id',
  count: 0,
  rows: new Map(), // id → notifier, as last listed
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

function say(text, tone = 'info') {
  setLine($('#status'), text, tone);
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

const TITLES = { signin: 'Email notifiers', list: 'Email notifiers', deliveries: 'Deliveries' };

function showView(name) {
  $('#signin-view').hidden = name !== 'signin';
  $('#list-view').hidden = name !== 'list';
  $('#deliveries-view').hidden = name !== 'deliveries';
  $('#session').hidden = name === 'signin';
  $('#view-nav').hidden = name === 'signin' || !can(PERM.deliveries);
  for (const [link, view] of [['#nav-notifiers', 'list'], ['#nav-deliveries', 'deliveries']]) {
    if (view === name) $(link).setAttribute('aria-current', 'page');
    else $(link).removeAttribute('aria-current');
  }
  document.body.dataset.view = name;
  document.title = `${TITLES[name]} · notifier`;
}

/** The heading of the view on screen: where focus goes when its target is gone. */
function viewHeading() {
  return document.body.dataset.view === 'deliveries' ? $('#deliveries-heading') : $('#list-heading');
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
  state.token = null;
  state.me = null;
  state.rows.clear();
  storeToken(null);
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  $('#notifier-rows').replaceChildren();
  $('#notifier-table').removeAttribute('aria-busy');
  Object.assign(state, { page: 1, search: '', ordering: 'id', count: 0 });
  $('#search-input').value = '';
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

/** #deliveries… opens the delivery log (with 2836); anything else the notifier list. */
function route() {
  if (location.hash.startsWith('#deliveries') && can(PERM.deliveries)) return showDeliveries();
  return showNotifiers();
}

/** Navigation links switch views in place (pushState: Back returns to the previous view). */
function onNavClick(event) {
  const link = event.target.closest('a[href^="#"]');
  if (!link || !state.token) return;
  event.preventDefault();
  if (link.getAttribute('href') !== location.hash) history.pushState(null, '', link.getAttribute('href'));
  busy(route);
}

/** Back and Forward between views (popstate: also for pushState entries, which fire no
 * hashchange); other fragments (the skip link's #main) are not views. */
function onHistoryMove() {
  const hash = location.hash;
  if (!state.token || (hash && hash !== '#notifiers' && !hash.startsWith('#deliveries'))) return;
  busy(route);
}

async function showNotifiers() {
  deliveries.abort?.abort();
  showView('list');
  $('#no-list').hidden = can(PERM.list);
  $('#list-body').hidden = !can(PERM.list);
  $('#page-size').value = String(state.pageSize);
  if (can(PERM.list)) await loadList();
  $('#list-heading').focus();
}

/* ---------- list ---------- */

function listUrl() {
  const params = new URLSearchParams({
    page: String(state.page),
    page_size: String(state.pageSize),
    ordering: state.ordering,
  });
  if (state.search) params.set('search', state.search);
  return `${API}?${params}`;
}

/** Loads the current page; a newer load aborts an older one so results never interleave. */
async function loadList() {
  state.listAbort?.abort();
  const controller = new AbortController();
  state.listAbort = controller;
  $('#notifier-table').setAttribute('aria-busy', 'true');
  const res = await request('GET', listUrl(), undefined, { signal: controller.signal });
  if (res.aborted) return;
  state.listAbort = null;
  $('#notifier-table').removeAttribute('aria-busy');
  if (res.ok) return renderList(res.data);
  if (res.status === 404 && state.page > 1) return loadEarlierPage();
  reportFailure(res);
}

/** "Invalid page.": rows vanished under us; step back to the last page that should exist. */
function loadEarlierPage() {
  const lastKnown = Math.max(1, Math.ceil(state.count / state.pageSize));
  state.page = lastKnown < state.page ? lastKnown : 1;
  return loadList();
}

function renderList(data) {
  const results = Array.isArray(data.results) ? data.results : [];
  state.count = Number(data.count) || 0;
  state.rows = new Map(results.map((notifier) => [notifier.id, notifier]));
  const refocus = focusedRowButton();
  $('#notifier-rows').replaceChildren(...results.map(buildRow));
  // Keep keyboard focus on the same button; if its row is gone (deleted), on the heading.
  if (refocus && !focusRowButton(refocus.id, refocus.className)) $('#list-heading').focus();
  renderEmpty(results.length);
  renderPager();
  renderSort();
}

function renderEmpty(shown) {
  const empty = $('#list-empty');
  empty.hidden = shown > 0;
  empty.textContent = state.search
    ? `No notifiers match “${state.search}”.`
    : 'No notifiers yet.';
}

function buildRow(notifier) {
  const row = $('#row-template').content.firstElementChild.cloneNode(true);
  row.dataset.id = String(notifier.id);
  const cell = (name) => row.querySelector(`.col-${name}`);
  cell('id').textContent = String(notifier.id);
  cell('name').textContent = notifier.name;
  cell('host').textContent = `${notifier.host}:${notifier.port}`;
  cell('username').textContent = notifier.username;
  cell('from').textContent = notifier.from_email;
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
    else button.setAttribute('aria-label', `${button.textContent} ${name}`);
  }
}

function renderPager() {
  const pages = Math.max(1, Math.ceil(state.count / state.pageSize));
  const noun = state.count === 1 ? 'notifier' : 'notifiers';
  $('#page-info').textContent = `Page ${state.page} of ${pages} · ${state.count} ${noun}`;
  setDisabled($('#prev-page'), state.page <= 1, $('#next-page'));
  setDisabled($('#next-page'), state.page >= pages, $('#prev-page'));
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

/** A second click on the same column reverses the order. */
function onSortClick(event) {
  const button = event.target.closest('.sort-button');
  if (!button) return;
  const field = button.dataset.sort;
  state.ordering = state.ordering === field ? `-${field}` : field;
  state.page = 1;
  busy(loadList);
}

function goToPage(delta) {
  state.page = Math.max(1, state.page + delta);
  busy(loadList);
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
  const search = $('#search-input').value.trim();
  if (search === state.search) return;
  state.search = search;
  state.page = 1;
  busy(loadList);
}

function onPageSizeChange() {
  state.pageSize = Number($('#page-size').value) || 20;
  state.page = 1;
  busy(loadList);
}

function onRowClick(event) {
  const button = event.target.closest('button');
  const row = button && button.closest('tr[data-id]');
  if (!row) return;
  const id = Number(row.dataset.id);
  if (button.classList.contains('edit-button')) busy(() => openEdit(id, button));
  else if (button.classList.contains('test-button')) openTest(id, button);
  else if (button.classList.contains('send-button')) openSend(id, button);
  else if (button.classList.contains('delete-button')) openDelete(id, button);
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

/**
 * Shows a 400 body next to its fields: #<errorPrefix><field> beside #<inputPrefix><field>.
 * Keys that are not fields (non_field_errors, detail) go to the form-level error line.
 * Focuses the first invalid field so keyboard users land on the problem.
 */
function showFieldErrors(data, { fields, errorPrefix, inputPrefix }) {
  const body = data && typeof data === 'object' ? data : { non_field_errors: ['The request was rejected.'] };
  let firstInvalid = null;
  for (const [key, value] of Object.entries(body)) {
    const isField = fields.includes(key);
    // Unknown keys keep their name; "detail" (a JSON parse error) and non_field_errors need none.
    const named = !isField && key !== 'non_field_errors' && key !== 'detail';
    const messages = messagesOf(value).map((message) => (named ? `${key}: ${message}` : message));
    const error = $(`#${errorPrefix}${isField ? key : 'non_field_errors'}`);
    error.append(...messages.map(lineSpan));
    error.hidden = false;
    if (!isField) continue;
    const input = $(`#${inputPrefix}${key}`);
    input.setAttribute('aria-invalid', 'true');
    const ids = (input.getAttribute('aria-describedby') || '').split(' ');
    setDescribedBy(input, [...ids, error.id]);
    firstInvalid = firstInvalid || input;
  }
  (firstInvalid || $(`#${errorPrefix}non_field_errors`)).focus();
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
  let notifier = state.rows.get(id);
  if (can(PERM.retrieve)) {
    const res = await request('GET', `${API}/${id}`);
    if (!res.ok) {
      reportFailure(res);
      if (res.status === 404) await loadList();
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
  say('');
  // A number input reports letters as an empty value; say so instead of dropping the field.
  if ($('#field-port').validity.badInput) {
    return showFieldErrors({ port: [MSG.badPort] }, notifierErrorTargets);
  }
  const values = readNotifierForm();
  const creating = editor.mode === 'create';
  const body = creating ? createBody(values) : patchBody(values, editor.loaded);
  if (!creating && Object.keys(body).length === 0) {
    $('#form-dialog').close();
    say('Nothing changed.');
    return;
  }
  setLine($('#form-status'), creating ? 'Creating…' : 'Saving…');
  const { ticket } = editor;
  const res = creating
    ? await request('POST', API, body)
    : await request('PATCH', `${API}/${editor.id}`, body);
  handleSaveResult(res, creating, ticket);
  if (res.ok || res.status === 404) await reloadIfListed();
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
    say(`${creating ? 'Created' : 'Saved'} “${res.data.name}”.`, 'ok');
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

async function reloadIfListed() {
  if (state.token && can(PERM.list)) await loadList();
}

/* ---------- delete ---------- */

const remover = { id: null, name: '', ticket: 0 };

function openDelete(id, opener) {
  const notifier = state.rows.get(id);
  if (!notifier) return;
  Object.assign(remover, { id, name: notifier.name });
  $('#confirm-text').textContent =
    `Delete “${notifier.name}” (${notifier.host}:${notifier.port})? This cannot be undone.`;
  setLine($('#confirm-status'), '');
  // Cancel gets focus first: the safe choice for a stray Enter.
  remover.ticket = openDialog($('#confirm-dialog'), opener, '#confirm-cancel');
}

function onConfirmDelete() {
  busy(() => withSubmitLock($('#confirm-delete'), deleteNotifier));
}

async function deleteNotifier() {
  const { id, name, ticket } = remover;
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
    // The last row of a later page is gone: show the page before it instead.
    if (state.rows.size === 1 && state.rows.has(id) && state.page > 1) state.page -= 1;
    await reloadIfListed();
    return;
  }
  reportFailure(res, open ? $('#confirm-status') : null);
}

/* ---------- test ---------- */

const tester = { id: null, ticket: 0 };

function describeNotifier(notifier) {
  return `“${notifier.name}” · ${notifier.host}:${notifier.port} · ${tlsMode(notifier)}`;
}

function openTest(id, opener) {
  const notifier = state.rows.get(id);
  if (!notifier) return;
  const form = $('#test-form');
  form.reset();
  clearErrors(form, 'test-error-');
  setLine($('#test-result'), '');
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
  clearErrors($('#test-form'), 'test-error-');
  say('');
  const to = $('#test-to').value.trim();
  setLine(result, to ? 'Connecting and sending a test message…' : 'Connecting…');
  const res = await request('POST', `${API}/${id}/test`, to ? { to } : {});
  if (!stillOpen(dialog, ticket)) return reportLateTest(res);
  setLine(result, '');
  if (res.ok) return showTestResult(result, res.data);
  if (res.status === 400) {
    return showFieldErrors(res.data, { fields: ['to'], errorPrefix: 'test-error-', inputPrefix: 'test-' });
  }
  if (res.status === 404) dialog.close();
  reportFailure(res, result);
  if (res.status === 404) await reloadIfListed();
}

function testSummary(data) {
  const outcome = data.success ? 'Success' : 'Failed';
  return `${outcome}: ${data.detail} (${data.duration_ms} ms)`;
}

function showTestResult(element, data) {
  setLine(element, testSummary(data), data.success ? 'ok' : 'error');
}

/** The dialog was closed while the test ran: the outcome still deserves a sentence. */
function reportLateTest(res) {
  if (res.ok) say(`Test: ${testSummary(res.data)}`, res.data.success ? 'ok' : 'error');
  else if (res.status !== 400) reportFailure(res);
}

/* ---------- send ---------- */

const sender = { id: null, ticket: 0 };

function openSend(id, opener) {
  const notifier = state.rows.get(id);
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

async function sendMessage() {
  const { id, ticket } = sender;
  const dialog = $('#send-dialog');
  const result = $('#send-result');
  clearErrors($('#send-form'), 'send-error-');
  showDeliveryLink(null);
  say('');
  setLine(result, 'Sending…');
  const res = await request('POST', `${API}/${id}/send`, sendBody());
  const open = stillOpen(dialog, ticket);
  if (open) setLine(result, '');
  if (open && res.data && Number.isInteger(res.data.delivery)) showDeliveryLink(res.data.delivery);
  if (res.ok) return showSendResult(open ? result : null, res.data);
  if (res.status === 400 && open) {
    return showFieldErrors(res.data, { fields: SEND_FIELDS, errorPrefix: 'send-error-', inputPrefix: 'send-' });
  }
  if (res.status === 502) return showSmtpFailure(open ? result : null, res.data);
  if (res.status === 404 && open) dialog.close();
  reportFailure(res, open ? result : null);
  if (res.status === 404) await reloadIfListed();
}

function showSendResult(element, data) {
  // sent = 0 only happens when the SMTP exchange failed on a fail_silently notifier.
  const text = data.sent
    ? `Sent (message id ${data.message_id})`
    : `Not sent: the SMTP exchange failed and this notifier fails silently (${data.detail}).`;
  const tone = data.sent ? 'ok' : 'error';
  if (element) setLine(element, text, tone);
  else say(text, tone);
}

/** 502: the SMTP exchange failed; the body's detail ("SMTP error: ...") says why. */
function showSmtpFailure(element, data) {
  const detail = data && typeof data.detail === 'string' ? data.detail : MSG.server;
  say(detail, 'error');
  if (element) setLine(element, `Failed: ${detail}`, 'error');
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
  $('#view-nav').addEventListener('click', onNavClick);
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
