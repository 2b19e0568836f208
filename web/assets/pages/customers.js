// 客户: the customer list with search, filters, sort and endless scroll.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { debounce, endlessList, fmtTime, optionLabel, optionIndex, chip, select } from '../ui.js';
import { exportFile } from './export.js';
import { takeDrill, drillNotice } from '../drill.js';
import { attainmentStrip } from './attainment.js';

// Kept while the same person has the app open, so coming back from a customer shows the same list.
const DEFAULT_FILTERS = { q: '', level: '', status: '', source: '', industry: '', owner_id: '', rfm_segment: '', sort: '-updated_at', extra: null };
// The eight RFM segments (客户分类), in their customary order (internal/rfm).
const RFM_SEGMENTS = ['important_value', 'important_develop', 'important_keep', 'important_retain',
  'general_value', 'general_develop', 'general_keep', 'general_retain'];
// A report's drill-down (#/customers?source=…&created_from=…): the filters with a
// control go into it, the others (dates, departments, RFM segment) to the API as they are.
const DRILL_CONTROLS = ['level', 'status', 'source', 'industry', 'owner_id', 'rfm_segment'];
const DRILL_KEYS = [...DRILL_CONTROLS, 'created_from', 'created_to', 'department_id', 'department_ids', 'next_follow_from', 'next_follow_to', 'tag'];
const filters = { ...DEFAULT_FILTERS };
let filtersOf = null;

const SORTS = [
  ['-updated_at', 'sort.updated_desc'],
  ['-created_at', 'sort.created_desc'],
  ['created_at', 'sort.created_asc'],
  ['name', 'sort.name_asc'],
  ['next_follow_at', 'sort.next_follow_asc'],
  ['-last_follow_at', 'sort.last_follow_desc'],
];

export function levelChip(value) {
  return chip(optionLabel('levels', value), `chip-level chip-level-${Math.max(0, optionIndex('levels', value))}`);
}

export function statusChip(value) {
  // colour by meaning where the value is known (won green, lost grey), else by position
  const known = ['potential', 'intent', 'negotiating', 'deal', 'lost'];
  const cls = known.includes(value) ? `chip-status-${value}` : `chip-status-${Math.max(0, optionIndex('statuses', value))}`;
  return chip(optionLabel('statuses', value), `chip-status ${cls}`);
}

export function customerRow(c) {
  return h('a', { class: 'row customer-row', href: `#/customers/${c.id}`, 'data-testid': 'customer-row', 'data-id': String(c.id) },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('span', { class: 'row-name', 'data-testid': 'customer-name' }, c.name),
        levelChip(c.level), statusChip(c.status)),
      h('div', { class: 'row-sub' },
        c.company ? h('span', null, c.company) : null,
        c.phone ? h('span', { class: 'mono' }, c.phone) : null)),
    h('div', { class: 'row-meta' },
      c.owner_name ? h('span', null, t('customer.owner_short', { name: c.owner_name })) : null,
      c.next_follow_at ? h('span', { class: 'row-follow' }, t('customer.next_follow_short', { time: fmtTime(c.next_follow_at) })) : null));
}

function optionList(kind, allKey) {
  return [{ value: '', label: t(allKey) }, ...((state.options && state.options[kind]) || [])];
}

export async function customerListPage(ctx) {
  ctx.setTitle(t('nav.customers'));
  if (filtersOf !== state.me.id) {
    Object.assign(filters, DEFAULT_FILTERS);
    filtersOf = state.me.id;
  }
  const drill = takeDrill(ctx, DRILL_KEYS);
  if (drill) {
    Object.assign(filters, DEFAULT_FILTERS);
    const extra = {};
    for (const [k, v] of Object.entries(drill)) {
      if (DRILL_CONTROLS.includes(k)) filters[k] = v; else extra[k] = v;
    }
    filters.extra = Object.keys(extra).length ? extra : null;
  }

  // The home page's 本月目标 strip loads beside the list, never holding it up.
  const attain = can('target.view') ? attainmentStrip(ctx) : null;
  if (attain) attain.load().catch(() => {});

  let owners = null;
  if (state.me.data_scope !== 'self' && can('user.view')) {
    try {
      const res = await api('GET', '/users', { query: { page_size: 100 } });
      owners = (res && res.items) || [];
    } catch (err) {
      if (err.status === 401) throw err;
      owners = null; // the owner filter is a nicety; the list still works without it
    }
  }
  if (!ctx.alive()) return;
  if (!owners && !(drill && drill.owner_id)) filters.owner_id = '';

  const total = h('span', { class: 'total', 'data-testid': 'customer-total' });
  const hint = h('span', { class: 'search-hint' });
  const listBox = h('div', { class: 'list-box' });

  const search = h('input', {
    type: 'search', class: 'search-input', 'data-testid': 'customer-search', value: filters.q,
    placeholder: t('customer.search_placeholder'), 'aria-label': t('customer.search_placeholder'), enterkeyhint: 'search',
  });
  const onSearch = debounce(() => {
    const q = search.value.trim();
    hint.textContent = q.length === 1 ? t('customer.search_min') : '';
    const eff = q.length >= 2 ? q : '';
    if (eff === filters.q) return;
    filters.q = eff;
    list.reset();
  }, 300);
  search.addEventListener('input', onSearch);
  ctx.onCleanup(onSearch.cancel);

  const filterDefs = [
    ['level', optionList('levels', 'filter.all_levels'), 'customer.level'],
    ['status', optionList('statuses', 'filter.all_statuses'), 'customer.status'],
    ['source', optionList('sources', 'filter.all_sources'), 'customer.source'],
    ['industry', optionList('industries', 'filter.all_industries'), 'customer.industry'],
    ['rfm_segment', [{ value: '', label: t('filter.all_rfm_segments') }, ...RFM_SEGMENTS.map((v) => ({ value: v, label: t(`rfm.segment.${v}`) }))], 'customer.rfm_segment'],
  ];
  if (owners) {
    filterDefs.push(['owner_id', [{ value: '', label: t('filter.all_owners') },
      ...owners.map((u) => ({ value: String(u.id), label: u.active === false ? `${u.name}（${t('user.inactive')}）` : u.name }))], 'customer.owner']);
  }
  const activeCount = h('span', { class: 'badge-count' });
  const countActive = () => {
    const n = filterDefs.filter(([k]) => filters[k]).length;
    activeCount.textContent = n ? String(n) : '';
  };
  const selects = filterDefs.map(([key, opts, label]) => {
    const s = select(opts, filters[key], { 'data-testid': `filter-${key}`, 'aria-label': t(label) });
    s.addEventListener('change', () => { filters[key] = s.value; countActive(); list.reset(); });
    return h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t(label)), s);
  });
  const sortSel = select(SORTS.map(([v, k]) => ({ value: v, label: t(k) })), filters.sort, { 'data-testid': 'customer-sort', 'aria-label': t('sort.label') });
  sortSel.addEventListener('change', () => { filters.sort = sortSel.value; list.reset(); });
  const clearBtn = h('button', {
    type: 'button', class: 'btn btn-text', 'data-testid': 'filter-clear',
    onclick: () => {
      for (const [k] of filterDefs) filters[k] = '';
      for (const l of selects) l.querySelector('select').value = '';
      countActive();
      list.reset();
    },
  }, t('filter.clear'));

  const details = h('details', { class: 'filters', open: window.matchMedia('(min-width: 900px)').matches || filterDefs.some(([k]) => filters[k]) },
    h('summary', { 'data-testid': 'filter-toggle' }, icon('filter'), t('filter.title'), activeCount),
    h('div', { class: 'filter-grid' }, selects,
      h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('sort.label')), sortSel),
      h('div', { class: 'filter filter-actions' }, clearBtn)));
  countActive();

  replace(ctx.main,
    attain ? attain.el : null,
    h('div', { class: 'toolbar' },
      h('div', { class: 'search-wrap' }, icon('search', 'search-icon'), search),
      can('customer.import') ? h('a', { class: 'btn', href: '#/customers/import', 'data-testid': 'customer-import', title: t('import.action') }, icon('upload'), h('span', null, t('import.action'))) : null,
      can('customer.export') ? h('button', {
        type: 'button', class: 'btn', 'data-testid': 'customer-export', title: t('export.action'),
        onclick: (e) => exportFile(e.currentTarget, '/customers/export', currentQuery()),
      }, icon('download'), h('span', null, t('export.action'))) : null,
      can('customer.create') ? h('a', { class: 'btn btn-primary', href: '#/customers/new', 'data-testid': 'customer-add' }, icon('plus'), h('span', null, t('customer.add'))) : null),
    details,
    drillNotice(filters.extra, () => { filters.extra = null; list.reset(); }),
    h('div', { class: 'list-head' }, total, hint),
    listBox);

  function currentQuery() {
    const query = { sort: filters.sort };
    for (const k of ['q', 'level', 'status', 'source', 'industry', 'owner_id', 'rfm_segment']) if (filters[k]) query[k] = filters[k];
    return { ...query, ...(filters.extra || {}) };
  }

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('customer.empty'),
    fetchPage: (page, pageSize) => api('GET', '/customers', { query: { ...currentQuery(), page, page_size: pageSize } }),
    renderItem: customerRow,
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
