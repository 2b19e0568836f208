// 销售数据: sales records with filters (period presets 本月/上月/本年 or custom dates,
// salesperson, customer, product), the totals of the filtered set, endless scroll.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { endlessList, select, tn } from '../ui.js';
import { fmtMoney, periodRange, PERIODS } from '../format.js';
import { people, products } from '../catalog.js';
import { customerPicker } from '../pickers.js';
import { exportFile } from './export.js';
import { takeDrill, drillNotice } from '../drill.js';

const DEFAULTS = { period: 'this_month', from: '', to: '', owner_id: '', customer: null, product_id: '', extra: null };
// The filters a report's drill-down may bring (#/sales?from=&to=&owner_id=…); those
// without a control here travel to the API as they are (filters.extra).
const DRILL_KEYS = ['from', 'to', 'owner_id', 'customer_id', 'product_id', 'department_id', 'department_ids', 'source'];
const filters = { ...DEFAULTS };
let filtersOf = null;

export function saleRow(s, { hideCustomer } = {}) {
  return h('a', { class: 'row sale-row', href: `#/sales/${s.id}`, 'data-testid': 'sale-row', 'data-id': String(s.id) },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('span', { class: 'row-name' }, hideCustomer ? s.sale_date : s.customer_name),
        s.opportunity_title ? h('span', { class: 'chip chip-outline' }, s.opportunity_title) : null),
      h('div', { class: 'row-sub' },
        hideCustomer ? null : h('span', { class: 'mono' }, s.sale_date),
        s.owner_name ? h('span', null, t('sale.owner_short', { name: s.owner_name })) : null,
        s.notes ? h('span', { class: 'muted ellipsis' }, s.notes) : null)),
    h('div', { class: 'row-meta' }, h('strong', { class: 'money', 'data-testid': 'sale-row-amount' }, fmtMoney(s.amount_fen))));
}

// 共 N 笔 · 合计 ¥X for {count, amount_fen}.
export function totalsBar() {
  const count = h('strong', { 'data-testid': 'sale-total-count' });
  const amount = h('strong', { class: 'money', 'data-testid': 'sale-total-amount' });
  const el = h('div', { class: 'totals', 'data-testid': 'sale-totals' },
    h('span', { class: 'totals-item' }, tn('sale.totals_count', { n: count })),
    h('span', { class: 'totals-item' }, t('sale.totals_amount'), ' ', amount));
  return {
    el,
    set(tt) {
      count.textContent = String((tt && tt.count) || 0);
      amount.textContent = fmtMoney((tt && tt.amount_fen) || 0);
    },
  };
}

export async function salesPage(ctx) {
  ctx.setTitle(t('nav.sales'));
  if (filtersOf !== state.me.id) { Object.assign(filters, DEFAULTS); filtersOf = state.me.id; }
  const drill = takeDrill(ctx, DRILL_KEYS);
  let drillCustomer = null;
  if (drill) {
    const { from: f, to: tt, owner_id: o, product_id: p, customer_id: c, ...extra } = drill;
    Object.assign(filters, DEFAULTS, { extra: Object.keys(extra).length ? extra : null });
    if (f || tt) Object.assign(filters, { period: 'custom', from: f || '', to: tt || '' });
    if (o) filters.owner_id = o;
    if (p) filters.product_id = p;
    if (c) {
      filters.customer = { id: Number(c), name: `#${c}` };
      drillCustomer = api('GET', `/customers/${c}`).then((x) => { if (x && x.name) filters.customer.name = x.name; }).catch(() => {});
    }
  }
  const [owners, catalogue] = await Promise.all([
    state.me.data_scope !== 'self' ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
    products().catch((err) => { if (err.status === 401) throw err; return []; }),
    drillCustomer,
  ]);
  if (!ctx.alive()) return;
  if (!owners && !(drill && drill.owner_id)) filters.owner_id = '';

  const totals = totalsBar();
  const listBox = h('div', { class: 'list-box' });
  const controls = [];

  const period = select(PERIODS.map((p) => ({ value: p, label: t(`period.${p}`) })), filters.period, { 'data-testid': 'sale-period', 'aria-label': t('period.label') });
  const from = h('input', { type: 'date', value: filters.from, 'data-testid': 'sale-from', 'aria-label': t('period.from') });
  const to = h('input', { type: 'date', value: filters.to, 'data-testid': 'sale-to', 'aria-label': t('period.to') });
  const customBox = h('div', { class: 'filter filter-range', hidden: filters.period !== 'custom' },
    h('span', { class: 'filter-label' }, t('period.custom_range')),
    h('div', { class: 'range' }, from, h('span', { class: 'muted' }, '–'), to));
  period.addEventListener('change', () => {
    filters.period = period.value;
    customBox.hidden = period.value !== 'custom';
    list.reset();
  });
  for (const [input, key] of [[from, 'from'], [to, 'to']]) input.addEventListener('change', () => { filters[key] = input.value; list.reset(); });
  controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('period.label')), period), customBox);

  if (owners) {
    const s = select([{ value: '', label: t('filter.all_salespeople') }, ...owners.map((u) => ({ value: String(u.id), label: u.name }))], filters.owner_id, { 'data-testid': 'sale-owner', 'aria-label': t('sale.owner') });
    s.addEventListener('change', () => { filters.owner_id = s.value; list.reset(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('sale.owner')), s));
  }
  const picker = customerPicker({
    initial: filters.customer, testid: 'sale-customer', id: 'sale-customer', placeholder: t('filter.customer_placeholder'),
    onChange: (c) => { filters.customer = c; list.reset(); },
  });
  controls.push(h('div', { class: 'filter' }, h('label', { class: 'filter-label', for: 'sale-customer' }, t('sale.customer')), picker.el));
  const prod = select([{ value: '', label: t('filter.all_products') }, ...catalogue.map((p) => ({ value: String(p.id), label: p.name }))], filters.product_id, { 'data-testid': 'sale-product', 'aria-label': t('sale.product') });
  prod.addEventListener('change', () => { filters.product_id = prod.value; list.reset(); });
  controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('sale.product')), prod));

  function currentQuery() {
    const range = filters.period === 'custom' ? { from: filters.from, to: filters.to } : periodRange(filters.period);
    return {
      from: range.from, to: range.to, owner_id: filters.owner_id,
      customer_id: filters.customer ? filters.customer.id : '', product_id: filters.product_id,
      ...(filters.extra || {}),
    };
  }

  replace(ctx.main,
    h('div', { class: 'toolbar' },
      h('div', { class: 'toolbar-title' }, totals.el),
      can('sale.export') ? h('button', {
        type: 'button', class: 'btn', 'data-testid': 'sale-export', title: t('export.action'),
        onclick: (e) => exportFile(e.currentTarget, '/sales/export', currentQuery()),
      }, icon('download'), h('span', null, t('export.action'))) : null,
      can('sale.create') ? h('a', { class: 'btn btn-primary', href: '#/sales/new', 'data-testid': 'sale-add' }, icon('plus'), h('span', null, t('sale.add'))) : null),
    h('details', { class: 'filters', open: true },
      h('summary', { 'data-testid': 'filter-toggle' }, icon('filter'), t('filter.only')),
      h('div', { class: 'filter-grid' }, controls)),
    drillNotice(filters.extra, () => { filters.extra = null; list.reset(); }),
    listBox);

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('sale.empty'),
    fetchPage: async (page, pageSize) => {
      const r = await api('GET', '/sales', { query: { ...currentQuery(), page, page_size: pageSize } });
      if (page === 1) totals.set(r && r.totals);
      return r;
    },
    renderItem: (s) => saleRow(s),
  });
  list.reset();
}
