// 销售机会 (list view): search and filters (stage, status, owner, expected close dates);
// the 管道 view is pipeline.js. viewSwitch() is the 管道 | 列表 toggle both show.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { debounce, endlessList, select, chip } from '../ui.js';
import { fmtMoney } from '../format.js';
import { stages, people } from '../catalog.js';
import { exportFile } from './export.js';
import { takeDrill, drillNotice } from '../drill.js';

export function stageChip(o) {
  return chip(o.stage_name, `chip-stage chip-stage-${o.status || 'open'}`);
}

export function opportunityRow(o, { hideCustomer } = {}) {
  return h('a', { class: 'row opportunity-row', href: `#/opportunities/${o.id}`, 'data-testid': 'opportunity-row', 'data-id': String(o.id) },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' }, h('span', { class: 'row-name' }, o.title), stageChip(o)),
      h('div', { class: 'row-sub' },
        hideCustomer ? null : h('span', null, o.customer_name),
        o.owner_name ? h('span', null, t('opp.owner_short', { name: o.owner_name })) : null,
        o.expected_close_date ? h('span', null, t('opp.close_short', { date: o.expected_close_date })) : null)),
    h('div', { class: 'row-meta' },
      h('strong', { class: 'money', 'data-testid': 'opportunity-row-amount' }, fmtMoney(o.amount_fen)),
      o.status === 'open' ? h('span', null, `${o.probability}%`) : null));
}

export function viewSwitch(active) {
  return h('div', { class: 'segmented', role: 'group', 'aria-label': t('opp.view') },
    h('a', { href: '#/pipeline', class: ['seg', active === 'pipeline' && 'active'], 'data-testid': 'view-pipeline', 'aria-current': active === 'pipeline' ? 'page' : null }, icon('board'), h('span', null, t('opp.view_pipeline'))),
    h('a', { href: '#/opportunities', class: ['seg', active === 'list' && 'active'], 'data-testid': 'view-list', 'aria-current': active === 'list' ? 'page' : null }, icon('list'), h('span', null, t('opp.view_list'))));
}

const DEFAULTS = { q: '', stage: '', status: '', owner_id: '', close_from: '', close_to: '' };
// A report's drill-down (#/opportunities?status=open&stage=…): the filters with a
// control go into it, the others (customer, departments) to the API as they are.
const DRILL_KEYS = ['stage', 'stage_id', 'status', 'owner_id', 'close_from', 'close_to', 'customer_id', 'department_id', 'department_ids'];
let extra = null;
const filters = { ...DEFAULTS };
let filtersOf = null;

export async function opportunitiesPage(ctx) {
  ctx.setTitle(t('nav.opportunities'));
  if (filtersOf !== state.me.id) { Object.assign(filters, DEFAULTS); extra = null; filtersOf = state.me.id; }
  const drill = takeDrill(ctx, DRILL_KEYS);
  if (drill) {
    Object.assign(filters, DEFAULTS);
    extra = null;
    for (const [k, v] of Object.entries(drill)) {
      if (k === 'stage_id') filters.stage = v;
      else if (k in DEFAULTS) filters[k] = v;
      else extra = { ...extra, [k]: v };
    }
  }
  const [st, owners] = await Promise.all([
    stages(),
    state.me.data_scope !== 'self' ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
  ]);
  if (!ctx.alive()) return;

  const total = h('span', { class: 'total', 'data-testid': 'opportunity-total' });
  const listBox = h('div', { class: 'list-box' });
  const search = h('input', {
    type: 'search', class: 'search-input', 'data-testid': 'opportunity-search', value: filters.q,
    placeholder: t('opp.search_placeholder'), 'aria-label': t('opp.search_placeholder'), enterkeyhint: 'search',
  });
  const onSearch = debounce(() => {
    const q = search.value.trim();
    if (q !== filters.q) { filters.q = q; list.reset(); }
  }, 300);
  search.addEventListener('input', onSearch);
  ctx.onCleanup(onSearch.cancel);

  const controls = [];
  const addSelect = (key, opts, lbl) => {
    const s = select(opts, filters[key], { 'data-testid': `opportunity-filter-${key}`, 'aria-label': lbl });
    s.addEventListener('change', () => { filters[key] = s.value; list.reset(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, lbl), s));
  };
  addSelect('stage', [{ value: '', label: t('filter.all') }, ...st.items.map((s) => ({ value: String(s.id), label: s.name }))], t('opp.stage'));
  addSelect('status', [{ value: '', label: t('filter.all') }, ...['open', 'won', 'lost'].map((s) => ({ value: s, label: t(`opp.status.${s}`) }))], t('opp.status'));
  if (owners) addSelect('owner_id', [{ value: '', label: t('filter.all_owners') }, ...owners.map((u) => ({ value: String(u.id), label: u.name }))], t('opp.owner'));
  for (const key of ['close_from', 'close_to']) {
    const i = h('input', { type: 'date', value: filters[key], 'data-testid': `opportunity-filter-${key}`, 'aria-label': t(`opp.${key}`) });
    i.addEventListener('change', () => { filters[key] = i.value; list.reset(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t(`opp.${key}`)), i));
  }
  const currentQuery = () => ({ ...filters, ...(extra || {}) });

  replace(ctx.main,
    h('div', { class: 'toolbar toolbar-split' }, viewSwitch('list'),
      h('div', { class: 'toolbar-actions' },
        can('opportunity.export') ? h('button', {
          type: 'button', class: 'btn', 'data-testid': 'opportunity-export', title: t('export.action'),
          onclick: (e) => exportFile(e.currentTarget, '/opportunities/export', currentQuery()),
        }, icon('download'), h('span', null, t('export.action'))) : null,
        can('opportunity.create') ? h('a', { class: 'btn btn-primary', href: '#/opportunities/new', 'data-testid': 'opportunity-add' }, icon('plus'), h('span', null, t('opp.add'))) : null)),
    h('div', { class: 'toolbar' }, h('div', { class: 'search-wrap' }, icon('search', 'search-icon'), search)),
    h('details', { class: 'filters', open: window.matchMedia('(min-width: 900px)').matches || Object.entries(filters).some(([k, v]) => k !== 'q' && v) },
      h('summary', { 'data-testid': 'filter-toggle' }, icon('filter'), t('filter.only')),
      h('div', { class: 'filter-grid' }, controls)),
    drillNotice(extra, () => { extra = null; list.reset(); }),
    h('div', { class: 'list-head' }, total),
    listBox);

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('opp.empty'),
    fetchPage: (page, pageSize) => api('GET', '/opportunities', { query: { ...currentQuery(), page, page_size: pageSize } }),
    renderItem: (o) => opportunityRow(o),
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
