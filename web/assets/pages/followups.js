// 客户跟踪 · 跟进记录: every follow-up the person may see, across customers, newest
// first — the manual's "进入客户跟踪模块 … 查看跟踪记录". Filters: period presets or
// custom dates, salesperson (for scopes wider than 本人), method, customer. A report's
// follow-up figure drills down here (#/followups?from=&to=&owner_id=&department_ids=).
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { endlessList, select } from '../ui.js';
import { periodRange, PERIODS } from '../format.js';
import { people, followupMethods } from '../catalog.js';
import { customerPicker } from '../pickers.js';
import { exportFile } from './export.js';
import { takeDrill, drillNotice } from '../drill.js';
import { followupRow } from './customer-followups.js';

const DEFAULTS = { period: 'all', from: '', to: '', owner_id: '', method: '', customer: null, extra: null };
// The filters a drill-down may bring; those without a control here (department_ids)
// travel to the API unchanged (filters.extra).
const DRILL_KEYS = ['from', 'to', 'owner_id', 'customer_id', 'method', 'department_id', 'department_ids'];
const filters = { ...DEFAULTS };
let filtersOf = null;

// applyDrill moves a report's drill-down query into the filters.
function applyDrill(drill) {
  const { from: f, to: tt, owner_id: o, customer_id: c, method: m, ...extra } = drill;
  Object.assign(filters, DEFAULTS, { extra: Object.keys(extra).length ? extra : null });
  filters.period = f || tt ? 'custom' : 'all';
  Object.assign(filters, { from: f || '', to: tt || '', owner_id: o || '', method: m || '' });
  if (!c) return null;
  filters.customer = { id: Number(c), name: `#${c}` };
  return api('GET', `/customers/${c}`).then((x) => { if (x && x.name) filters.customer.name = x.name; }).catch(() => {});
}

export async function followupsPage(ctx) {
  ctx.setTitle(t('nav.followups'));
  if (filtersOf !== state.me.id) { Object.assign(filters, DEFAULTS); filtersOf = state.me.id; }
  const drill = takeDrill(ctx, DRILL_KEYS);
  const naming = drill ? applyDrill(drill) : null;
  const [owners, methods] = await Promise.all([
    state.me.data_scope !== 'self' ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
    followupMethods(),
    naming,
  ]);
  if (!ctx.alive()) return;
  if (!owners && !(drill && drill.owner_id)) filters.owner_id = '';

  const total = h('strong', { 'data-testid': 'followup-list-total' });
  const listBox = h('div', { class: 'list-box' });
  const controls = [];
  const changed = () => list.reset();

  const period = select(PERIODS.map((p) => ({ value: p, label: t(`period.${p}`) })), filters.period, { 'data-testid': 'followup-period', 'aria-label': t('period.label') });
  const from = h('input', { type: 'date', value: filters.from, 'data-testid': 'followup-from', 'aria-label': t('period.from') });
  const to = h('input', { type: 'date', value: filters.to, 'data-testid': 'followup-to', 'aria-label': t('period.to') });
  const customBox = h('div', { class: 'filter filter-range', hidden: filters.period !== 'custom' },
    h('span', { class: 'filter-label' }, t('period.custom_range')),
    h('div', { class: 'range' }, from, h('span', { class: 'muted' }, '–'), to));
  period.addEventListener('change', () => { filters.period = period.value; customBox.hidden = period.value !== 'custom'; changed(); });
  for (const [input, key] of [[from, 'from'], [to, 'to']]) input.addEventListener('change', () => { filters[key] = input.value; changed(); });
  controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('period.label')), period), customBox);

  if (owners) {
    const s = select([{ value: '', label: t('filter.all_salespeople') }, ...owners.map((u) => ({ value: String(u.id), label: u.name }))], filters.owner_id, { 'data-testid': 'followup-owner', 'aria-label': t('followup.owner') });
    s.addEventListener('change', () => { filters.owner_id = s.value; changed(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('followup.owner')), s));
  }
  const method = select([{ value: '', label: t('followup.all_methods') }, ...methods], filters.method, { 'data-testid': 'followup-method', 'aria-label': t('followup.method') });
  method.addEventListener('change', () => { filters.method = method.value; changed(); });
  controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('followup.method')), method));
  const picker = customerPicker({
    initial: filters.customer, testid: 'followup-customer', id: 'followup-customer', placeholder: t('filter.customer_placeholder'),
    onChange: (c) => { filters.customer = c; changed(); },
  });
  controls.push(h('div', { class: 'filter' }, h('label', { class: 'filter-label', for: 'followup-customer' }, t('followup.customer')), picker.el));

  function currentQuery() {
    const range = filters.period === 'custom' ? { from: filters.from, to: filters.to } : periodRange(filters.period);
    return {
      from: range.from, to: range.to, owner_id: filters.owner_id, method: filters.method,
      customer_id: filters.customer ? filters.customer.id : '', ...(filters.extra || {}),
    };
  }

  replace(ctx.main,
    h('div', { class: 'toolbar' },
      h('div', { class: 'toolbar-title' }, h('span', { class: 'totals-item' }, t('followup.list_total'), ' ', total)),
      can('followup.export') ? h('button', {
        type: 'button', class: 'btn', 'data-testid': 'followup-list-export', title: t('export.action'),
        onclick: (e) => exportFile(e.currentTarget, '/followups/export', currentQuery()),
      }, icon('download'), h('span', null, t('export.action'))) : null),
    h('details', { class: 'filters', open: true },
      h('summary', { 'data-testid': 'filter-toggle' }, icon('filter'), t('filter.only')),
      h('div', { class: 'filter-grid' }, controls)),
    drillNotice(filters.extra, () => { filters.extra = null; changed(); }),
    listBox);

  // Editing from here opens the same form as on the customer's page; the row
  // carries its customer's id and name, which is all the form needs.
  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('followup.list_empty'),
    fetchPage: (page, pageSize) => api('GET', '/followups', { query: { ...currentQuery(), page, page_size: pageSize } }),
    renderItem: (f) => followupRow(f, { methods, customer: { id: f.customer_id, name: f.customer_name }, onChanged: changed, showCustomer: true }),
    onTotal: (n) => { total.textContent = String(n); },
  });
  list.reset();
}
