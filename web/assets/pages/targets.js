// 业绩目标: monthly sales targets per department and per person, a year at a
// time, in a grid (rows: departments, then people; columns: the twelve months,
// then the quarter and year sums, which roll up from the months). Managers
// type a yuan amount into a month and it is saved when they leave the cell
// (PUT /targets with that one month; emptied = 0 = no target); others see the
// grid read-only.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { fmtMoney, fenToInput, parseMoney } from '../format.js';
import { showError, spinner, today } from '../ui.js';
import { people } from '../catalog.js';
import { attainmentCards } from './attainment.js';
import { scopedDepartments } from './reports.js';

const MONTHS = Array.from({ length: 12 }, (_, i) => i + 1);
const pad = (n) => String(n).padStart(2, '0');

function subjectKey(scope, id) { return `${scope}:${id}`; }

// The departments and people the grid shows: the scoped departments, and the
// people in them (or just oneself for 仅本人).
async function subjects() {
  const scope = state.me.data_scope;
  const depts = await scopedDepartments();
  let persons = [{ id: state.me.id, name: state.me.name }];
  if (scope !== 'self') {
    const all = await people().catch((err) => { if (err.status === 401) throw err; return null; });
    if (all) {
      const ids = new Set(depts.map((d) => d.id));
      persons = scope === 'all' ? all : all.filter((u) => u.id === state.me.id || (u.departments || []).some((d) => ids.has(d.id)));
    }
  }
  return [
    ...depts.map((d) => ({ scope: 'department', id: d.id, name: d.name })),
    ...persons.map((u) => ({ scope: 'user', id: u.id, name: u.name })),
  ];
}

export async function targetsPage(ctx) {
  ctx.setTitle(t('target.nav'));
  const year = Number(ctx.query.get('year')) || Number(today().slice(0, 4));
  const editable = can('target.edit');
  replace(ctx.main, spinner());
  let rows, answer;
  try {
    [rows, answer] = await Promise.all([
      subjects(),
      api('GET', '/targets', { query: { year } }),
    ]);
  } catch (err) {
    if (err.status === 401) throw err;
    if (ctx.alive()) replace(ctx.main, h('div', { class: 'empty' }, err.message));
    return;
  }
  if (!ctx.alive()) return;

  // Existing targets by subject and month → amount in fen.
  const targets = new Map();
  const known = new Set(rows.map((r) => subjectKey(r.scope, r.id)));
  for (const tg of (answer && answer.items) || []) {
    const k = subjectKey(tg.kind, tg.subject_id);
    if (!known.has(k)) { rows.push({ scope: tg.kind, id: tg.subject_id, name: tg.subject_name || `#${tg.subject_id}` }); known.add(k); }
    if (tg.amount_fen) targets.set(`${k}|${tg.month}`, tg.amount_fen);
  }

  const month = (m) => `${year}-${pad(m)}`;
  const sums = new Map(); // subject key → {q1..q4, year} cells
  const refresh = (k) => {
    const cells = sums.get(k);
    let total = 0;
    for (let q = 0; q < 4; q++) {
      let s = 0;
      for (let m = q * 3 + 1; m <= q * 3 + 3; m++) s += targets.get(`${k}|${month(m)}`) || 0;
      cells[q].textContent = s ? fmtMoney(s) : '—';
      total += s;
    }
    cells[4].textContent = total ? fmtMoney(total) : '—';
  };

  async function save(row, m, input) {
    const k = subjectKey(row.scope, row.id);
    const key = `${k}|${month(m)}`;
    const have = targets.get(key);
    const raw = input.value.trim();
    const fen = parseMoney(raw);
    const cell = input.closest('td');
    if (Number.isNaN(fen)) { cell.classList.add('cell-error'); input.setAttribute('aria-invalid', 'true'); return; }
    cell.classList.remove('cell-error');
    input.removeAttribute('aria-invalid');
    if ((have || 0) === (fen || 0)) return;
    cell.classList.add('cell-saving');
    try {
      await api('PUT', '/targets', { body: { items: [{ kind: row.scope, subject_id: row.id, month: month(m), amount_fen: fen || 0 }] } });
      if (fen) targets.set(key, fen); else targets.delete(key);
      cell.classList.add('cell-saved');
      cell.dataset.saved = 'true';
      setTimeout(() => cell.classList.remove('cell-saved'), 1200);
    } catch (err) {
      cell.classList.add('cell-error');
      showError(err);
    } finally {
      cell.classList.remove('cell-saving');
      refresh(k);
    }
  }

  const head = h('tr', null,
    h('th', { class: 'sticky-col' }, t('target.subject')),
    MONTHS.map((m) => h('th', { class: 'num' }, t('target.month_n', { n: m }))),
    [1, 2, 3, 4].map((q) => h('th', { class: 'num sum-col' }, `Q${q}`)),
    h('th', { class: 'num sum-col' }, t('target.year_total')));
  const body = rows.map((row) => {
    const k = subjectKey(row.scope, row.id);
    const sumCells = [0, 1, 2, 3, 4].map((i) => h('td', { class: 'num sum-col', 'data-testid': i < 4 ? `target-q${i + 1}` : 'target-year' }));
    sums.set(k, sumCells);
    const tr = h('tr', { 'data-testid': 'target-row', 'data-scope': row.scope, 'data-id': String(row.id) },
      h('th', { class: 'sticky-col', scope: 'row' }, h('span', { class: 'target-name' }, row.name),
        h('span', { class: 'chip chip-grey' }, t(`target.scope.${row.scope}`))),
      MONTHS.map((m) => {
        const have = targets.get(`${k}|${month(m)}`);
        if (!editable) return h('td', { class: 'num', 'data-testid': `target-${m}` }, have ? fmtMoney(have) : '—');
        const input = h('input', {
          type: 'text', inputmode: 'decimal', class: 'target-input', value: have ? fenToInput(have) : '',
          'data-testid': `target-${m}`, 'aria-label': `${row.name} ${t('target.month_n', { n: m })}`, placeholder: '—',
        });
        input.addEventListener('change', () => save(row, m, input));
        input.addEventListener('keydown', (e) => { if (e.key === 'Enter') input.blur(); });
        return h('td', { class: 'num' }, input);
      }),
      sumCells);
    return tr;
  });
  const att = attainmentCards(ctx);
  replace(ctx.main,
    h('div', { class: 'toolbar toolbar-split' },
      h('div', { class: 'segmented', role: 'group', 'aria-label': t('target.year') },
        h('a', { class: 'seg', href: `#/targets?year=${year - 1}`, 'data-testid': 'target-prev-year', 'aria-label': t('target.prev_year') }, '‹'),
        h('strong', { class: 'seg', 'data-testid': 'target-year-label' }, String(year)),
        h('a', { class: 'seg', href: `#/targets?year=${year + 1}`, 'data-testid': 'target-next-year', 'aria-label': t('target.next_year') }, '›')),
      h('a', { class: 'btn', href: '#/reports/performance', 'data-testid': 'target-performance' }, icon('trophy'), h('span', null, t('report.type.performance')))),
    h('p', { class: 'page-note' }, editable ? t('target.hint_edit') : t('target.hint_view')),
    h('div', { class: 'card table-wrap targets-wrap' },
      h('table', { class: 'report-table targets-grid', 'data-testid': 'targets-grid' }, h('thead', null, head), h('tbody', null, body))),
    att.el);
  for (const k of sums.keys()) refresh(k);
  att.load();
}
