// 操作日志: who did what to which record, with each changed field's before → after;
// the 登录日志 tab: sign-ins and refused attempts with IP and client. Both export to .xlsx.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t, has } from '../i18n.js';
import { can } from '../state.js';
import { endlessList, fmtTime, fromLocalInput, select, optionLabel, chip } from '../ui.js';
import { exportFile } from './export.js';

const ACTIONS = ['create', 'update', 'delete', 'restore', 'login', 'logout', 'deactivate', 'activate', 'assign_roles', 'claim', 'assign', 'release', 'transfer', 'reclaim', 'merge', 'import', 'export', 'backup', 'download', 'upload', 'log_retention'];
const ENTITIES = ['customer', 'contact', 'followup', 'opportunity', 'sale', 'product', 'pool_rules', 'opportunity_stage', 'user', 'session', 'role', 'setting', 'setting_option'];
const LINKS = { customer: (id) => `#/customers/${id}`, opportunity: (id) => `#/opportunities/${id}`, sale: (id) => `#/sales/${id}` };
const OPTION_FIELDS = { level: 'levels', status: 'statuses', source: 'sources', industry: 'industries', data_scope: 'data_scopes' };

function label(prefix, key) {
  return has(`${prefix}.${key}`) ? t(`${prefix}.${key}`) : key;
}

function fieldLabel(entity, name) {
  if (has(`${entity}.${name}`)) return t(`${entity}.${name}`);
  if (has(`field.${name}`)) return t(`field.${name}`);
  return name;
}

// Fields that hold ids, and which name list (from the lookups below) turns them into names.
const ID_FIELDS = { owner_id: 'people', actor_id: 'people', created_by: 'people', user_id: 'people', role_ids: 'roles', department_ids: 'departments', department_id: 'departments' };

function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

function fmtValue(name, v, names) {
  if (isEmpty(v)) return t('common.empty_value');
  const lookup = ID_FIELDS[name] && names[ID_FIELDS[name]];
  if (lookup) {
    const one = (x) => lookup.get(Number(x)) ?? `#${x}`;
    if (Array.isArray(v)) return v.map(one).join('、');
    if (typeof v === 'number' || /^\d+$/.test(String(v))) return one(v);
  }
  if (Array.isArray(v)) return v.map((x) => (x && typeof x === 'object' ? (x.name ?? JSON.stringify(x)) : String(x))).join('、');
  if (typeof v === 'object') return v.name ?? JSON.stringify(v);
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  if (OPTION_FIELDS[name]) return optionLabel(OPTION_FIELDS[name], v);
  if (/_at$/.test(name) && typeof v === 'string') return fmtTime(v);
  return String(v);
}

function entry(e, names) {
  const changes = Object.entries(e.changes || {});
  const target = e.entity_name || (e.entity_id ? `#${e.entity_id}` : '');
  return h('div', { class: 'row audit-row', 'data-testid': 'audit-row', 'data-id': String(e.id) },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('span', { class: 'audit-who' }, e.actor_name || t('audit.system')),
        chip(label('audit.action', e.action), `chip-action chip-action-${e.action}`),
        h('span', { class: 'muted' }, label('audit.entity', e.entity)),
        target ? (LINKS[e.entity] && e.entity_id && e.action !== 'delete' && e.action !== 'release' && e.action !== 'reclaim'
          ? h('a', { href: LINKS[e.entity](e.entity_id), class: 'audit-target' }, target)
          : h('span', { class: 'audit-target' }, target)) : null),
      changes.length ? h('ul', { class: 'changes' }, changes.map(([k, c]) => h('li', null,
        h('span', { class: 'change-field' }, fieldLabel(e.entity, k)),
        h('span', { class: ['change-old', isEmpty(c && c.old) && 'is-empty'] }, fmtValue(k, c && c.old, names)),
        h('span', { class: 'change-arrow', 'aria-hidden': 'true' }, '→'),
        h('span', { class: ['change-new', isEmpty(c && c.new) && 'is-empty'] }, fmtValue(k, c && c.new, names))))) : null),
    h('div', { class: 'row-meta' },
      h('time', { datetime: e.at }, fmtTime(e.at)),
      e.ip ? h('span', { class: 'mono muted' }, e.ip) : null));
}

export async function auditPage(ctx) {
  ctx.setTitle(t('nav.audit'));

  // Names for the ids in the log (people, roles, departments), when this person may read them.
  let people = null;
  const names = { people: new Map(), roles: new Map(), departments: new Map() };
  if (can('user.view')) {
    const items = (path, query) => api('GET', path, { query }).then((r) => (r && r.items) || [], (err) => { if (err.status === 401) throw err; return null; });
    const [users, roles, depts] = await Promise.all([items('/users', { page_size: 100 }), items('/roles'), items('/departments')]);
    if (!ctx.alive()) return;
    people = users;
    for (const [key, list] of [['people', users], ['roles', roles], ['departments', depts]]) {
      for (const x of list || []) names[key].set(x.id, x.name);
    }
  }

  const body = h('div');
  const tabBtn = (id, key, draw) => h('button', {
    type: 'button', role: 'tab', class: 'btn btn-sm', 'data-testid': `audit-tab-${id}`,
    onclick: (e) => {
      for (const b of e.currentTarget.parentNode.children) { b.classList.toggle('btn-primary', b === e.currentTarget); b.setAttribute('aria-selected', String(b === e.currentTarget)); }
      draw();
    },
  }, t(key));
  const opsTab = tabBtn('ops', 'nav.audit', () => drawOps(ctx, body, people, names));
  const loginTab = tabBtn('logins', 'audit.logins_tab', () => drawLogins(ctx, body, people));
  replace(ctx.main, h('div', { class: 'tabs', role: 'tablist', style: 'display:flex;gap:8px;margin-bottom:8px' }, opsTab, loginTab), body);
  opsTab.click();
}

// exportButton downloads the list with its current filters (audit.export only).
function exportButton(path, filters) {
  if (!can('audit.export')) return null;
  return h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'audit-export',
    onclick: (e) => exportFile(e.currentTarget, path, Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== ''))) }, t('export.action'));
}

// dateFilter is a whole-day date input in the company time zone; `to` becomes the start
// of the next day (exclusive).
function dateFilter(f, key, lbl, endOfDay, onChange) {
  const i = h('input', { type: 'date', 'data-testid': `audit-${key}`, 'aria-label': lbl });
  i.addEventListener('change', () => {
    let day = i.value;
    if (day && endOfDay) {
      const d = new Date(`${day}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + 1);
      day = d.toISOString().slice(0, 10);
    }
    f[key] = day ? fromLocalInput(`${day}T00:00`) : '';
    onChange();
  });
  return h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, lbl), i);
}

function loginRow(e) {
  return h('div', { class: 'row audit-row', 'data-testid': 'login-row', 'data-id': String(e.id) },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('span', { class: 'audit-who' }, e.actor_name || t('audit.system')),
        chip(e.success ? t('audit.login_success') : t('audit.login_failure'), e.success ? 'chip-action chip-action-login' : 'chip-action chip-action-delete'),
        e.method ? h('span', { class: 'muted' }, e.method) : null,
        !e.success && e.reason ? h('span', { class: 'muted', 'data-testid': 'login-reason' }, label('audit.reason', e.reason)) : null),
      e.user_agent ? h('div', { class: 'muted', style: 'overflow-wrap:anywhere;font-size:12px', 'data-testid': 'login-ua' }, e.user_agent) : null),
    h('div', { class: 'row-meta' },
      h('time', { datetime: e.at }, fmtTime(e.at)),
      e.ip ? h('span', { class: 'mono muted' }, e.ip) : null));
}

function drawLogins(ctx, box, people) {
  const f = { actor_id: '', result: '', from: '', to: '' };
  const total = h('span', { class: 'total', 'data-testid': 'login-total' });
  const listBox = h('div', { class: 'list-box' });
  const controls = [];
  const addSelect = (key, opts, lbl) => {
    const s = select([{ value: '', label: t('filter.all') }, ...opts], '', { 'data-testid': `login-${key}`, 'aria-label': lbl });
    s.addEventListener('change', () => { f[key] = s.value; list.reset(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, lbl), s));
  };
  addSelect('result', [{ value: 'success', label: t('audit.login_success') }, { value: 'failure', label: t('audit.login_failure') }], t('audit.login_result'));
  if (people) addSelect('actor_id', people.map((u) => ({ value: String(u.id), label: u.name })), t('audit.actor'));
  controls.push(dateFilter(f, 'from', t('audit.from'), false, () => list.reset()));
  controls.push(dateFilter(f, 'to', t('audit.to'), true, () => list.reset()));
  replace(box,
    h('details', { class: 'filters', open: window.matchMedia('(min-width: 900px)').matches },
      h('summary', null, t('filter.only')),
      h('div', { class: 'filter-grid' }, controls)),
    h('div', { class: 'list-head' }, total, exportButton('/audit/logins/export', f)),
    listBox);
  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('audit.empty'),
    fetchPage: (page, pageSize) => api('GET', '/audit/logins', { query: { ...f, page, page_size: pageSize } }),
    renderItem: loginRow,
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}

function drawOps(ctx, box, people, names) {
  const f = { action: '', entity: '', actor_id: '', from: '', to: '' };
  const total = h('span', { class: 'total', 'data-testid': 'audit-total' });
  const listBox = h('div', { class: 'list-box' });
  const controls = [];
  const addSelect = (key, opts, lbl) => {
    const s = select([{ value: '', label: t('filter.all') }, ...opts], '', { 'data-testid': `audit-${key}`, 'aria-label': lbl });
    s.addEventListener('change', () => { f[key] = s.value; list.reset(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, lbl), s));
  };
  addSelect('action', ACTIONS.map((a) => ({ value: a, label: label('audit.action', a) })), t('audit.action'));
  addSelect('entity', ENTITIES.map((a) => ({ value: a, label: label('audit.entity', a) })), t('audit.entity'));
  if (people) addSelect('actor_id', people.map((u) => ({ value: String(u.id), label: u.name })), t('audit.actor'));
  const dateInput = (key, lbl, endOfDay) => {
    const i = h('input', { type: 'date', 'data-testid': `audit-${key}`, 'aria-label': lbl });
    i.addEventListener('change', () => {
      // whole days in the company time zone; `to` is the start of the next day (exclusive)
      let day = i.value;
      if (day && endOfDay) {
        const d = new Date(`${day}T00:00:00Z`);
        d.setUTCDate(d.getUTCDate() + 1);
        day = d.toISOString().slice(0, 10);
      }
      f[key] = day ? fromLocalInput(`${day}T00:00`) : '';
      list.reset();
    });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, lbl), i));
  };
  dateInput('from', t('audit.from'), false);
  dateInput('to', t('audit.to'), true);

  replace(box,
    h('details', { class: 'filters', open: window.matchMedia('(min-width: 900px)').matches },
      h('summary', null, t('filter.only')),
      h('div', { class: 'filter-grid' }, controls)),
    h('div', { class: 'list-head' }, total, exportButton('/audit/export', f)),
    listBox);

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('audit.empty'),
    fetchPage: (page, pageSize) => api('GET', '/audit', { query: { ...f, page, page_size: pageSize } }),
    renderItem: (e) => entry(e, names),
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
