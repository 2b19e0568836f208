// 业绩目标完成: attainment cards for the signed-in person and their departments,
// this month, quarter and year (GET /targets/attainment?period=…), each a
// progress bar of actual against target. Shown on the reports and targets
// pages; attainmentStrip() is the compact version on the home page (客户列表).
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
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

// The subject's name with its 个人/部门 chip.
function subjectName(it) {
  return h('div', { class: 'attain-name' }, h('strong', null, it.name || ''), h('span', { class: 'chip chip-grey' }, t(`target.scope.${it.kind}`)));
}

// attainmentStrip: this month's attainment at the top of the home page, one
// line per subject that has a target this month (me, then my departments),
// the whole strip a link to 业绩目标. Nobody with a target: nothing, except a
// discreet 未设置目标 link for those who may set targets (target.create).
// Errors leave it empty: the customer list matters more. data-state tells
// what it settled on (shown, unset, empty, error) for the browser tests.
export function attainmentStrip(ctx) {
  const el = h('a', { class: 'card attain-strip', href: '#/targets', 'data-testid': 'home-attainment', 'aria-label': t('home.attainment_open'), hidden: true });
  async function load() {
    let answer;
    try {
      answer = await api('GET', '/targets/attainment', { query: { period: 'month' } });
    } catch (err) {
      if (err.status === 401) throw err;
      el.dataset.state = 'error';
      return;
    }
    if (!ctx.alive()) return;
    const items = ((answer && answer.items) || []).filter((it) => (it.target_fen || 0) > 0);
    if (!items.length) {
      el.dataset.state = 'empty';
      if (!can('target.create')) return;
      el.classList.add('attain-strip-unset');
      el.dataset.state = 'unset';
      replace(el, h('span', { class: 'muted', 'data-testid': 'home-attainment-unset' }, t('home.attainment_unset')));
      el.hidden = false;
      return;
    }
    el.dataset.state = 'shown';
    replace(el, items.map((it) => h('div', { class: 'attain-strip-item', 'data-testid': 'home-attain-item', 'data-scope': it.kind, 'data-id': String(it.id) },
      subjectName(it), bar('month', it))));
    el.hidden = false;
  }
  return { el, load };
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
    subjectName(it),
    PERIODS.map((p) => (periods[p] ? bar(p, periods[p]) : null)))));
  }
  return { el, load };
}
