// 报表: the report-type chooser (with the signed-in person's target attainment)
// and one page per report type. A report is the server's reportview.Report
// (docs/api-report.md): conditions, KPI cards, charts and tables, all drawn
// generically, so a new report needs no new code here. Clicking a bar, slice,
// KPI or row opens its drill-down (#/<page>?<query>). Export downloads
// format=xlsx|pdf with the same conditions.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { showError, toast, saveBlob, select, spinner, emptyState } from '../ui.js';
import { people, products } from '../catalog.js';
import { customerPicker } from '../pickers.js';
import { loadECharts, mountChart, fmtValue } from '../charts.js';
import { attainmentCards } from './attainment.js';
import { rfmSettingsButton } from './rfm-settings.js';

export const REPORT_TYPES = ['sales', 'customers', 'performance', 'funnel', 'rfm'];
const REPORT_ICONS = { sales: 'sales', customers: 'customers', performance: 'trophy', funnel: 'pipeline', rfm: 'users' };

// The time presets the API knows (report.Presets), then 自定义.
export const PRESETS = ['today', 'this_week', 'this_month', 'this_quarter', 'this_year', 'last_month', 'last_quarter', 'last_year'];

// What each report may be grouped by (report.Groupings); the first is its default.
const GROUPINGS = {
  sales: ['month', 'day', 'week', 'quarter', 'year', 'user', 'department', 'product', 'customer', 'source'],
  customers: ['source', 'level', 'industry', 'status', 'user'],
  performance: ['user', 'department'],
  funnel: [],
  rfm: [],
};
// Which person/record conditions a report takes.
const CONDITIONS = {
  sales: ['user_id', 'department_id', 'customer_id', 'product_id'],
  customers: ['user_id', 'department_id'],
  performance: ['user_id', 'department_id'],
  funnel: ['user_id', 'department_id', 'customer_id'],
  rfm: ['user_id', 'department_id'],
};
const QUERY_KEYS = ['preset', 'from', 'to', 'group_by', 'user_id', 'department_id', 'customer_id', 'customer_name', 'product_id'];

export function drillHref(d) {
  if (!d || !d.page) return '';
  const qs = new URLSearchParams(d.query || {}).toString();
  return `#/${d.page}${qs ? '?' + qs : ''}`;
}

// #/reports: the chooser, with attainment cards above it.
export async function reportsHomePage(ctx) {
  ctx.setTitle(t('report.nav'));
  const cards = REPORT_TYPES.map((type) => h('a', {
    class: 'report-type card', href: `#/reports/${type}`, 'data-testid': `report-type-${type}`,
  }, icon(REPORT_ICONS[type]), h('span', { class: 'report-type-text' },
    h('strong', null, t(`report.type.${type}`)), h('span', { class: 'muted' }, t(`report.type_hint.${type}`)))));
  const attain = can('target.view') ? attainmentCards(ctx) : null;
  replace(ctx.main,
    attain ? attain.el : null,
    h('h2', { class: 'section-title' }, t('report.choose')),
    h('div', { class: 'report-types', 'data-testid': 'report-types' }, cards),
    can('target.view') ? h('a', { class: 'btn', href: '#/targets', 'data-testid': 'targets-link' }, icon('trophy'), h('span', null, t('target.nav'))) : null);
  if (attain) attain.load();
}

// Departments the person may report on: all for 全公司, else their own (and,
// for 本部门及下级, those below them). Names come from GET /departments.
export async function scopedDepartments() {
  if (state.me.data_scope === 'self') return [];
  const r = await api('GET', '/departments');
  const all = (r && r.items) || [];
  if (state.me.data_scope === 'all') return all;
  const mine = new Set((state.me.departments || []).map((d) => d.id));
  if (state.me.data_scope === 'dept_tree') {
    let grew = true;
    while (grew) {
      grew = false;
      for (const d of all) if (d.parent_id && mine.has(d.parent_id) && !mine.has(d.id)) { mine.add(d.id); grew = true; }
    }
  }
  return all.filter((d) => mine.has(d.id));
}

function readConditions(type, query) {
  const c = {};
  for (const k of QUERY_KEYS) if (query.get(k)) c[k] = query.get(k);
  if (!c.preset && !c.from && !c.to) c.preset = type === 'rfm' ? 'this_year' : 'this_month';
  if (c.preset) { delete c.from; delete c.to; }
  return c;
}

function apiQuery(c) {
  const q = { ...c };
  delete q.customer_name;
  return q;
}

// #/reports/{type}
export async function reportPage(ctx) {
  const type = ctx.params[0];
  ctx.setTitle(t(`report.type.${type}`));
  ctx.setBack('#/reports');
  const cond = readConditions(type, ctx.query);
  const [owners, catalogue, depts] = await Promise.all([
    state.me.data_scope !== 'self' ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
    CONDITIONS[type].includes('product_id') ? products().catch((err) => { if (err.status === 401) throw err; return []; }) : [],
    scopedDepartments().catch((err) => { if (err.status === 401) throw err; return []; }),
  ]);
  if (!ctx.alive()) return;

  const body = h('div', { class: 'report-body', 'data-testid': 'report-body' });
  const charts = [];
  ctx.onCleanup(() => { for (const c of charts) c.dispose(); });

  const reload = () => {
    const qs = new URLSearchParams(cond).toString();
    history.replaceState(null, '', `#/reports/${type}${qs ? '?' + qs : ''}`);
    load();
  };

  // ---- conditions ----
  const controls = [];
  const preset = select([...PRESETS.map((p) => ({ value: p, label: t(`report.preset.${p}`) })), { value: 'custom', label: t('period.custom') }],
    cond.preset || 'custom', { 'data-testid': 'report-preset', 'aria-label': t('report.cond.period') });
  const from = h('input', { type: 'date', value: cond.from || '', 'data-testid': 'report-from', 'aria-label': t('period.from') });
  const to = h('input', { type: 'date', value: cond.to || '', 'data-testid': 'report-to', 'aria-label': t('period.to') });
  const customBox = h('div', { class: 'filter filter-range', hidden: !!cond.preset },
    h('span', { class: 'filter-label' }, t('period.custom_range')),
    h('div', { class: 'range' }, from, h('span', { class: 'muted' }, '–'), to));
  preset.addEventListener('change', () => {
    customBox.hidden = preset.value !== 'custom';
    if (preset.value === 'custom') {
      delete cond.preset;
      if (!from.value || !to.value) return; // wait for both dates
      cond.from = from.value; cond.to = to.value;
    } else {
      cond.preset = preset.value; delete cond.from; delete cond.to;
    }
    reload();
  });
  for (const input of [from, to]) {
    input.addEventListener('change', () => {
      if (!from.value || !to.value) return;
      delete cond.preset; cond.from = from.value; cond.to = to.value;
      reload();
    });
  }
  controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('report.cond.period')), preset), customBox);

  const groups = GROUPINGS[type];
  if (groups.length) {
    const g = select(groups.map((v) => ({ value: v, label: t(`report.group.${v}`) })), cond.group_by || groups[0], { 'data-testid': 'report-group_by', 'aria-label': t('report.cond.group_by') });
    g.addEventListener('change', () => { cond.group_by = g.value; reload(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t('report.cond.group_by')), g));
  }
  const want = CONDITIONS[type];
  const selectCond = (key, label, items, allLabel) => {
    const s = select([{ value: '', label: allLabel }, ...items], cond[key] || '', { 'data-testid': `report-${key}`, 'aria-label': label });
    s.addEventListener('change', () => { if (s.value) cond[key] = s.value; else delete cond[key]; reload(); });
    controls.push(h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, label), s));
  };
  if (want.includes('user_id') && owners) {
    selectCond('user_id', t('report.cond.user'), owners.map((u) => ({ value: String(u.id), label: u.name })), t('filter.all_salespeople'));
  }
  if (want.includes('department_id') && depts.length) {
    selectCond('department_id', t('report.cond.department'), depts.map((d) => ({ value: String(d.id), label: d.name })), t('report.all_departments'));
  }
  if (want.includes('customer_id')) {
    const picker = customerPicker({
      initial: cond.customer_id ? { id: Number(cond.customer_id), name: cond.customer_name || `#${cond.customer_id}` } : null,
      testid: 'report-customer', id: 'report-customer', placeholder: t('filter.customer_placeholder'),
      onChange: (c) => {
        if (c) { cond.customer_id = String(c.id); cond.customer_name = c.name; } else { delete cond.customer_id; delete cond.customer_name; }
        reload();
      },
    });
    controls.push(h('div', { class: 'filter' }, h('label', { class: 'filter-label', for: 'report-customer' }, t('report.cond.customer')), picker.el));
  }
  if (want.includes('product_id') && catalogue.length) {
    selectCond('product_id', t('report.cond.product'), catalogue.map((p) => ({ value: String(p.id), label: p.name })), t('filter.all_products'));
  }

  const exportBtn = (format) => h('button', {
    type: 'button', class: 'btn report-export', 'data-testid': `report-export-${format}`, title: t(`report.export_${format}`),
    onclick: (e) => exportReport(e.currentTarget, type, apiQuery(cond), format),
  }, icon('download'), h('span', { class: 'report-export-long' }, t(`report.export_${format}`)),
  h('span', { class: 'report-export-short', 'aria-hidden': 'true' }, format === 'pdf' ? 'PDF' : 'Excel'));

  replace(ctx.main,
    h('div', { class: 'toolbar toolbar-split' },
      h('div', { class: 'toolbar-title muted', 'data-testid': 'report-generated' }),
      h('div', { class: 'toolbar-actions' },
        type === 'rfm' ? rfmSettingsButton(ctx) : null,
        can('report.export') ? [exportBtn('xlsx'), exportBtn('pdf')] : null)),
    h('details', { class: 'filters', open: window.innerWidth >= 900 },
      h('summary', { 'data-testid': 'filter-toggle' }, icon('filter'), t('report.conditions')),
      h('div', { class: 'filter-grid' }, controls)),
    body);

  let gen = 0;
  async function load() {
    const my = ++gen;
    for (const c of charts.splice(0)) c.dispose();
    replace(body, spinner());
    let rep, echarts;
    try {
      [rep, echarts] = await Promise.all([
        api('GET', `/reports/${type}`, { query: apiQuery(cond) }),
        loadECharts(),
      ]);
    } catch (err) {
      if (!ctx.alive() || my !== gen) return;
      replace(body, emptyState(err.message || t('report.load_failed')));
      showError(err);
      return;
    }
    if (!ctx.alive() || my !== gen) return;
    const gen0 = ctx.main.querySelector('[data-testid="report-generated"]');
    if (gen0) gen0.textContent = rep.generated_at ? t('report.generated', { at: rep.generated_at.replace('T', ' ').slice(0, 16) }) : '';
    renderReport(body, rep, echarts, charts, ctx);
  }
  load();
}

// renderReport draws a report into box: conditions line, KPI cards, charts, tables.
export function renderReport(box, rep, echarts, charts, ctx) {
  const go = (d) => { const href = drillHref(d); if (href) ctx.go(href); };
  const condLine = h('div', { class: 'report-conditions', 'data-testid': 'report-conditions' },
    (rep.conditions || []).map((c) => h('span', { class: 'chip chip-outline', 'data-key': c.key }, `${c.label}: ${c.value}`)));
  const kpis = h('div', { class: 'report-kpis', 'data-testid': 'report-kpis' }, (rep.summary || []).map((m) => kpiCard(m, go)));
  const chartBox = h('div', { class: 'report-charts' });
  for (const c of rep.charts || []) {
    if (!(c.categories || []).length) continue;
    const drills = c.drill || [];
    const mc = mountChart(echarts, c, { onClick: drills.length ? (i) => go(drills[i]) : null });
    charts.push(mc);
    chartBox.append(mc.el);
  }
  const tables = (rep.tables || []).map((tb) => reportTable(tb, go));
  const empty = !(rep.charts || []).length && !(rep.tables || []).length && !(rep.summary || []).length;
  replace(box, condLine, kpis, chartBox, tables, empty ? emptyState(t('report.empty')) : null);
  for (const c of charts) c.draw();
}

function change(label, v, testid) {
  if (v === null || v === undefined) return null;
  const dir = v > 0 ? 'up' : v < 0 ? 'down' : 'flat';
  const arrow = v > 0 ? '▲' : v < 0 ? '▼' : '–';
  return h('span', { class: ['kpi-change', `kpi-${dir}`], 'data-testid': testid, 'data-dir': dir },
    `${label} ${arrow} ${Math.abs(v * 100).toFixed(1)}%`);
}

function kpiCard(m, go) {
  const inner = [
    h('span', { class: 'kpi-label' }, m.label),
    h('strong', { class: 'kpi-value', 'data-testid': 'report-kpi-value' }, fmtValue(m.format, m.value)),
    h('span', { class: 'kpi-changes' }, change(t('report.pop'), m.pop, 'report-kpi-pop'), change(t('report.yoy'), m.yoy, 'report-kpi-yoy')),
  ];
  const href = drillHref(m.drill);
  return href
    ? h('a', { class: 'kpi card', href, 'data-testid': 'report-kpi', 'data-key': m.key, onclick: (e) => { e.preventDefault(); go(m.drill); } }, inner)
    : h('div', { class: 'kpi card', 'data-testid': 'report-kpi', 'data-key': m.key }, inner);
}

function reportTable(tb, go) {
  const cols = tb.columns || [];
  const numeric = (c) => c.format && c.format !== 'text' && c.format !== 'date';
  const cell = (c, v) => h('td', { class: numeric(c) ? 'num' : null }, typeof v === 'number' ? fmtValue(c.format, v) : (v ?? ''));
  const rows = (tb.rows || []).map((r) => {
    const href = drillHref(r.drill);
    return h('tr', {
      class: href ? 'drill' : null, 'data-testid': 'report-row', 'data-href': href || null, tabindex: href ? '0' : null,
      onclick: href ? () => go(r.drill) : null,
      onkeydown: href ? (e) => { if (e.key === 'Enter') go(r.drill); } : null,
    }, cols.map((c) => cell(c, r.cells ? r.cells[c.key] : '')));
  });
  const totals = tb.totals && Object.keys(tb.totals).length
    ? h('tfoot', null, h('tr', { 'data-testid': 'report-totals' }, cols.map((c, i) => (c.key in tb.totals
      ? cell(c, tb.totals[c.key])
      : h('td', null, i === 0 ? t('report.total') : '')))))
    : null;
  return h('section', { class: 'card report-table-card', 'data-testid': 'report-table', 'data-id': tb.id || '' },
    h('h3', { class: 'report-chart-title' }, tb.title),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'report-table' },
        h('thead', null, h('tr', null, cols.map((c) => h('th', { class: numeric(c) ? 'num' : null }, c.label)))),
        h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: String(cols.length || 1), class: 'muted' }, t('report.no_rows')))),
        totals)));
}

async function exportReport(btn, type, query, format) {
  btn.disabled = true;
  btn.classList.add('busy');
  btn.setAttribute('aria-busy', 'true');
  toast(t('report.exporting'));
  try {
    const res = await api('GET', `/reports/${type}`, { query: { ...query, format }, blob: true });
    saveBlob(res.blob, res.filename || `${type}-report.${format}`);
    toast(t('export.done'), 'success');
  } catch (err) {
    showError(err);
  } finally {
    btn.disabled = false;
    btn.classList.remove('busy');
    btn.removeAttribute('aria-busy');
  }
}
