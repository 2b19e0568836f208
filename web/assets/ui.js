// Shared UI pieces: toast, confirm dialog, modal, times, forms, endless lists.
import { h, replace, clear, icon } from './dom.js';
import { t } from './i18n.js';
import { state, TIME_ZONE } from './state.js';

// ---- toast ---------------------------------------------------------------

let toastTimer = 0;
export function toast(message, kind = 'info') {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', { id: 'toast', class: 'toast', role: 'status', 'aria-live': 'polite', 'data-testid': 'toast' });
    document.body.appendChild(el);
  }
  el.textContent = message;
  // A stamp that tells a new toast from the last one's text, increasing across page loads.
  el.dataset.seq = String(Math.max(Date.now(), Number(el.dataset.seq || 0) + 1));
  el.className = `toast toast-${kind} show`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = `toast toast-${kind}`; }, kind === 'error' ? 5000 : 2600);
}

// Shows an API error: the message as a toast. A 401 is handled by the router.
export function showError(err) {
  if (!err) return;
  if (err.status === 401) return;
  console.error(err);
  toast(err.message || String(err), 'error');
}

// ---- modal and confirm -----------------------------------------------------

// openModal returns {el, body, footer, close}; close() resolves `closed`.
export function openModal({ title, body, footer, wide, onClose }) {
  const prevFocus = document.activeElement;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    document.removeEventListener('keydown', onKey);
    overlay.remove();
    if (!document.querySelector('.overlay')) document.body.classList.remove('modal-open');
    if (prevFocus && prevFocus.focus) prevFocus.focus();
    if (onClose) onClose();
  };
  const onKey = (e) => { if (e.key === 'Escape') close(); };
  const panel = h('div', { class: ['modal', wide && 'modal-wide'], role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
    h('div', { class: 'modal-head' },
      h('h2', { class: 'modal-title' }, title),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: close }, icon('close'))),
    h('div', { class: 'modal-body' }, body),
    footer ? h('div', { class: 'modal-foot' }, footer) : null);
  const overlay = h('div', { class: 'overlay', onclick: (e) => { if (e.target === overlay) close(); } }, panel);
  document.body.appendChild(overlay);
  document.body.classList.add('modal-open');
  document.addEventListener('keydown', onKey);
  const first = panel.querySelector('input, select, textarea, .modal-foot .btn');
  if (first) setTimeout(() => first.focus(), 0);
  return { el: panel, close, isClosed: () => closed };
}

// confirmDialog resolves true when the person presses OK.
export function confirmDialog({ title, message, okText, danger }) {
  return new Promise((resolve) => {
    let answer = false;
    const m = openModal({
      title: title || t('common.confirm'),
      body: h('p', { class: 'confirm-text' }, message),
      footer: [
        h('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-cancel', onclick: () => m.close() }, t('common.cancel')),
        h('button', {
          type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], 'data-testid': 'confirm-ok',
          onclick: () => { answer = true; m.close(); },
        }, okText || t('common.ok')),
      ],
      onClose: () => resolve(answer),
    });
  });
}

// ---- times ---------------------------------------------------------------

function zoneParts(date) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: (state.company && state.company.timezone) || (state.me && state.me.timezone) || TIME_ZONE, hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p = {};
  for (const { type, value } of f.formatToParts(date)) p[type] = value;
  return p;
}

// "2026-11-27T03:04:05Z" → "2026-11-27 11:04" (company time zone).
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const p = zoneParts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

// RFC 3339 UTC → "YYYY-MM-DDTHH:MM" for <input type=datetime-local>, in the company zone.
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = zoneParts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// The zone's offset from UTC in minutes at a given instant.
function zoneOffset(date) {
  const p = zoneParts(date);
  const asUTC = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round((asUTC - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

// "YYYY-MM-DDTHH:MM" (wall time in the company zone) → "2026-11-27T03:04:00Z".
export function fromLocalInput(value) {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
  let utc = wall - zoneOffset(new Date(wall)) * 60000;
  utc = wall - zoneOffset(new Date(utc)) * 60000; // settle across an offset change
  return new Date(utc).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Today's date in the company zone, "YYYY-MM-DD" (sale dates, date filters).
export function today() {
  const p = zoneParts(new Date());
  return `${p.year}-${p.month}-${p.day}`;
}

// The current wall time in the company zone for <input type=datetime-local>.
export function nowLocalInput() {
  return toLocalInput(new Date().toISOString());
}

// ---- misc ----------------------------------------------------------------

// t() with nodes: tn('dup.with', {name: h('a', …)}) → [text, node, text] to append.
export function tn(key, vars) {
  const out = [];
  const s = t(key);
  let last = 0;
  s.replace(/\{(\w+)\}/g, (m, k, at) => {
    out.push(s.slice(last, at));
    const v = vars && vars[k];
    out.push(v === undefined || v === null ? m : (v instanceof Node ? v : String(v)));
    last = at + m.length;
    return m;
  });
  out.push(s.slice(last));
  return out.filter((x) => x !== '');
}

// Saves a downloaded blob under its name (export files, templates, error files).
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name || 'download.xlsx', hidden: true });
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 30000);
}

// actionSheet: a list of choices in a modal; resolves the chosen item's value or null.
// items: [{value, label, sub?, testid?, current?, danger?}]
export function actionSheet({ title, items, note }) {
  return new Promise((resolve) => {
    let answer = null;
    const m = openModal({
      title,
      body: [
        note ? h('p', { class: 'sheet-note' }, note) : null,
        h('div', { class: 'sheet-list', role: 'list' }, items.map((it) => h('button', {
          type: 'button', class: ['sheet-item', it.current && 'is-current', it.danger && 'is-danger'], 'data-testid': it.testid || null,
          disabled: !!it.disabled, 'aria-current': it.current ? 'true' : null,
          onclick: () => { answer = it.value; m.close(); },
        }, h('span', { class: 'sheet-label' }, it.label), it.sub ? h('span', { class: 'sheet-sub' }, it.sub) : null))),
      ],
      onClose: () => resolve(answer),
    });
  });
}

// formModal: a form in a modal with 取消 / a primary button (data-testid form-save).
// submit(form) → true to close; errors are shown by the caller (formError).
export function formModal({ title, fields, okText, wide, testid, submit, intro, onClose }) {
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': testid || null },
    intro || null,
    h('div', { class: 'form-grid' }, fields),
    h('div', { class: 'form-error', role: 'alert' }));
  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, okText || t('common.save'));
  const formId = `mf-${Math.random().toString(36).slice(2)}`;
  form.id = formId;
  save.setAttribute('form', formId);
  const m = openModal({
    title, wide, body: form, onClose,
    footer: [h('button', { type: 'button', class: 'btn', 'data-testid': 'form-cancel', onclick: () => m.close() }, t('common.cancel')), save],
  });
  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    clearFieldErrors(form);
    busy = true;
    save.disabled = true;
    try {
      if (await submit(form)) m.close();
    } finally {
      busy = false;
      save.disabled = false;
    }
  });
  return { form, modal: m };
}

export function debounce(fn, ms) {
  let timer = 0;
  const d = (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  d.cancel = () => clearTimeout(timer);
  return d;
}

// Label of an option value from /meta/options (kind: levels, statuses, sources, industries, data_scopes).
export function optionLabel(kind, value) {
  if (value === null || value === undefined || value === '') return '';
  const list = (state.options && state.options[kind]) || [];
  const o = list.find((x) => x.value === value) || retired(kind, value);
  return o ? o.label : String(value);
}

// A deactivated option (系统设置) a record still carries: shown, not offered.
function retired(kind, value) {
  const list = (state.options && state.options.retired) || [];
  return list.find((x) => x.list === kind && x.value === value);
}

// optionChoices is a picker's options: the active ones, plus the record's own value when
// that option was deactivated since (so editing the record keeps it).
export function optionChoices(kind, value) {
  const list = (state.options && state.options[kind]) || [];
  const old = value && !list.some((x) => x.value === value) ? retired(kind, value) : null;
  return old ? [...list, old] : list;
}

export function optionIndex(kind, value) {
  const list = (state.options && state.options[kind]) || [];
  return list.findIndex((x) => x.value === value);
}

export function chip(text, cls) {
  return text ? h('span', { class: ['chip', cls] }, text) : null;
}

export function emptyState(text) {
  return h('div', { class: 'empty' }, text);
}

export function spinner() {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spin' }), t('common.loading'));
}

// ---- forms ---------------------------------------------------------------

// A labelled field: the input gets data-testid="field-<name>", errors go under it.
export function field(name, label, input, { required, hint, wide } = {}) {
  // a composite control (chip input, checkbox group) labels its own inner control
  const control = input.matches('input, select, textarea') ? input : null;
  if (control) {
    if (!control.id) control.id = `f-${name}`;
    if (!control.hasAttribute('data-testid')) control.setAttribute('data-testid', `field-${name}`);
    if (!control.name) control.name = name;
  }
  const labelFor = control ? control.id : (input.querySelector('input[id], select[id], textarea[id]') || {}).id;
  return h('div', { class: ['field', wide && 'field-wide'], 'data-field': name },
    h(labelFor ? 'label' : 'div', { class: 'field-label', for: labelFor || null, id: labelFor ? null : `l-${name}` }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    hint ? h('div', { class: 'field-hint' }, hint) : null,
    h('div', { class: 'field-error', 'data-error-for': name, role: 'alert' }));
}

// A group of checkboxes (multi-select) inside a field; value() → selected ids.
export function checkGroup(name, items, selected, { indent } = {}) {
  const set = new Set(selected || []);
  const box = h('div', { class: 'check-group', id: `f-${name}`, 'data-testid': `field-${name}`, role: 'group', 'aria-labelledby': `l-${name}` },
    items.map((it) => h('label', { class: 'check', 'data-depth': indent ? String(it.depth || 0) : null },
      h('input', { type: 'checkbox', value: String(it.id), checked: set.has(it.id), 'data-testid': `${name}-${it.id}` }),
      h('span', { class: 'check-text' }, it.label, it.sub ? h('small', null, it.sub) : null))));
  box.value = () => [...box.querySelectorAll('input:checked')].map((x) => Number(x.value));
  return box;
}

function errorKey(k) {
  return String(k).replace(/\[.*$/, '').replace(/\..*$/, '');
}

// Puts per-field messages under the matching fields; returns the messages that
// matched no field (shown in the form's general error area).
export function showFieldErrors(form, fields) {
  clearFieldErrors(form);
  const rest = [];
  let first = null;
  for (const [k, msg] of Object.entries(fields || {})) {
    const key = errorKey(k);
    const slot = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}；${msg}` : msg;
      const wrap = slot.closest('.field');
      if (wrap) {
        wrap.classList.add('has-error');
        const input = wrap.querySelector('input, select, textarea');
        if (input) input.setAttribute('aria-invalid', 'true');
        if (!first) first = wrap;
      }
    } else rest.push(`${k}: ${msg}`);
  }
  const general = form.querySelector('.form-error');
  if (general) general.textContent = rest.join('；');
  if (first) first.scrollIntoView({ block: 'center', behavior: 'smooth' });
  return rest;
}

export function clearFieldErrors(form) {
  for (const s of form.querySelectorAll('.field-error')) s.textContent = '';
  for (const w of form.querySelectorAll('.field.has-error')) w.classList.remove('has-error');
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  const general = form.querySelector('.form-error');
  if (general) general.textContent = '';
}

// Handles an error from a form submit: per-field messages plus the toast.
export function formError(form, err) {
  if (err && err.fields) showFieldErrors(form, err.fields);
  showError(err);
}

export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value ?? '') }, o.label)));
}

// ---- endless list ----------------------------------------------------------

// endlessList loads page after page of a list answer as the sentinel scrolls into view.
// fetchPage(page) → {items, total}; renderItem(item) → Node.
export function endlessList({ ctx, container, fetchPage, renderItem, onTotal, emptyText, pageSize = 20 }) {
  const items = h('div', { class: 'list' });
  const foot = h('div', { class: 'list-foot' });
  clear(container);
  container.append(items, foot);
  let page = 0, loaded = 0, total = -1, loading = false, gen = 0, failed = false;

  const done = () => total >= 0 && loaded >= total;
  const nearBottom = () => foot.getBoundingClientRect().top < window.innerHeight + 300;

  async function loadMore() {
    if (loading || done() || failed || !ctx.alive()) return;
    loading = true;
    const my = gen;
    replace(foot, spinner());
    try {
      const res = await fetchPage(page + 1, pageSize);
      if (my !== gen || !ctx.alive()) return;
      page += 1;
      const list = (res && res.items) || [];
      total = typeof res.total === 'number' ? res.total : loaded + list.length;
      for (const it of list) items.appendChild(renderItem(it));
      loaded += list.length;
      if (list.length === 0) total = loaded; // guard against a total that never arrives
      if (onTotal) onTotal(total);
    } catch (err) {
      if (my !== gen) return;
      failed = true;
      showError(err);
      replace(foot, h('button', { type: 'button', class: 'btn btn-text', onclick: () => { failed = false; loadMore(); } }, t('common.retry')));
      return;
    } finally {
      if (my === gen) loading = false;
    }
    if (loaded === 0) replace(foot, emptyState(emptyText || t('common.empty')));
    else if (done()) replace(foot, h('div', { class: 'list-end' }, t('list.end')));
    else {
      replace(foot, h('button', { type: 'button', class: 'btn btn-text', onclick: loadMore }, t('list.more')));
      if (nearBottom()) loadMore();
    }
  }

  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMore();
  }, { rootMargin: '0px 0px 300px 0px' });
  io.observe(foot);
  ctx.onCleanup(() => io.disconnect());

  return {
    reset() {
      gen += 1;
      page = 0; loaded = 0; total = -1; loading = false; failed = false;
      clear(items);
      loadMore();
    },
    remove(node) {
      node.remove();
      loaded -= 1; total -= 1;
      if (onTotal) onTotal(total);
      if (loaded === 0 && done()) replace(foot, emptyState(emptyText || t('common.empty')));
    },
    prepend(node) { items.prepend(node); loaded += 1; total += 1; if (onTotal) onTotal(total); },
  };
}
