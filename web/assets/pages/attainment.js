// 业绩目标完成: attainment cards for the signed-in person and their departments,
// this month, quarter and year (GET /targets/attainment?period=…), each a
// progress bar of actual against target. Shown on the reports page.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { fmtMoney } from '../format.js';
import { spinner } from '../ui.js';

export const PERIODS = ['month', 'quarter', 'year'];

function subjectKey(it) {
  return `${it.kind}:${it.id}`;
}

// One progress line: 本月 ¥actual / ¥target, a bar, and the percentage.
function bar(period, it) {
  const target = it.target_fen || 0;
  const actual = it.actual_fen || 0;
  const ratio = target > 0 ? (typeof it.rate === 'number' ? it.rate : actual / target) : null;
  const pct = ratio === null ? null : Math.round(ratio * 1000) / 10;
  return h('div', { class: 'attain-line', 'data-testid': `attain-${period}`, 'data-ratio': ratio === null ? '' : String(ratio) },
    h('div', { class: 'attain-head' },
      h('span', { class: 'attain-period' }, t(`target.period.${period}`)),
      h('span', { class: 'attain-nums' }, h('strong', { class: 'money' }, fmtMoney(actual)), ' / ',
        target > 0 ? fmtMoney(target) : t('target.none')),
      h('span', { class: ['attain-pct', ratio !== null && ratio >= 1 && 'attain-done'] }, pct === null ? '—' : `${pct}%`)),
    h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': pct === null ? '0' : String(Math.min(100, pct)) },
      h('div', { class: ['progress-bar', ratio !== null && ratio >= 1 && 'progress-done'], style: `width:${ratio === null ? 0 : Math.min(100, ratio * 100)}%` })));
}

export function attainmentCards(ctx) {
  const grid = h('div', { class: 'attain-grid', 'data-testid': 'attainment' }, spinner());
  const el = h('section', { class: 'attain' }, h('h2', { class: 'section-title section-title-first' }, t('target.attainment')), grid);
  async function load() {
    let answers;
    try {
      answers = await Promise.all(PERIODS.map((p) => api('GET', '/targets/attainment', { query: { period: p } })));
    } catch (err) {
      if (err.status === 401) throw err;
      if (ctx.alive()) replace(grid, h('div', { class: 'muted' }, err.message));
      return;
    }
    if (!ctx.alive()) return;
    // Merge the three periods per subject (me first, then departments).
    const subjects = new Map();
    PERIODS.forEach((p, i) => {
      for (const it of (answers[i] && answers[i].items) || []) {
        const k = subjectKey(it);
        if (!subjects.has(k)) subjects.set(k, { it, periods: {} });
        subjects.get(k).periods[p] = it;
      }
    });
    if (!subjects.size) { replace(grid, h('div', { class: 'muted', 'data-testid': 'attainment-empty' }, t('target.no_attainment'))); return; }
    replace(grid, [...subjects.values()].map(({ it, periods }) => h('div', {
      class: 'card attain-card', 'data-testid': 'attain-card', 'data-scope': it.kind, 'data-id': String(it.id),
    },
    h('div', { class: 'attain-name' }, h('strong', null, it.name || ''), h('span', { class: 'chip chip-grey' }, t(`target.scope.${it.kind}`))),
    PERIODS.map((p) => (periods[p] ? bar(p, periods[p]) : null)))));
  }
  return { el, load };
}
