// 销售机会详情: the stage track, amount and fields, lines, 阶段历史 (stage history);
// 移动阶段, 生成销售数据 (won), 编辑, 删除.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { fmtTime, confirmDialog, toast, showError, endlessList } from '../ui.js';
import { fmtMoney } from '../format.js';
import { stages, label } from '../catalog.js';
import { stageChip } from './opportunities.js';
import { linesTable } from './sale-detail.js';
import { chooseStage, moveOpportunity, makeSale, offerSale } from './stage-move.js';
import { openReminderForm } from './reminders.js';

function item(lbl, value, testid) {
  const empty = value === null || value === undefined || value === '';
  return [h('dt', null, lbl), h('dd', { class: empty ? 'muted' : null, 'data-testid': testid ? `opp-${testid}` : null }, empty ? t('common.none') : value)];
}

// The stages as a track: passed, current, to come (won/lost at the end).
function stageTrack(o, st) {
  const open = st.items.filter((s) => s.kind === 'open');
  const curIdx = open.findIndex((s) => s.id === o.stage_id);
  const final = st.items.find((s) => s.kind === (o.status === 'lost' ? 'lost' : 'won'));
  const steps = [...open, final].filter(Boolean);
  return h('ol', { class: 'stage-track', 'data-testid': 'stage-track' }, steps.map((s, i) => {
    let cls = 'todo';
    if (s.id === o.stage_id) cls = 'current';
    else if (o.status !== 'open' ? s.kind === 'open' : i < curIdx) cls = 'done';
    return h('li', { class: ['stage-step', `is-${cls}`, `kind-${s.kind}`], 'aria-current': s.id === o.stage_id ? 'step' : null },
      h('span', { class: 'stage-dot', 'aria-hidden': 'true' }), h('span', { class: 'stage-name' }, s.name));
  }));
}

function historyRow(x) {
  return h('div', { class: 'tl-entry', 'data-testid': 'stage-history-row' },
    h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
    h('div', { class: 'tl-body' },
      h('div', { class: 'tl-text' }, x.from_stage_name
        ? t('opp.history_move', { who: x.changed_by_name || t('audit.system'), from: x.from_stage_name, to: x.to_stage_name })
        : t('opp.history_create', { who: x.changed_by_name || t('audit.system'), to: x.to_stage_name })),
      h('time', { class: 'tl-time', datetime: x.changed_at }, fmtTime(x.changed_at))));
}

export async function opportunityDetailPage(ctx) {
  const id = ctx.params[0];
  ctx.setBack('#/opportunities');
  ctx.setTitle(t('opp.detail'));
  const [o, st] = await Promise.all([api('GET', `/opportunities/${id}`), stages()]);
  if (!ctx.alive()) return;
  ctx.setTitle(o.title);

  async function move() {
    const stage = await chooseStage(o, st);
    if (!stage) return;
    const updated = await moveOpportunity(o, stage, st, { ctx, offer: false, onStale: () => ctx.rerender() });
    if (!updated) return;
    const sale = stage.kind === 'won' ? await offerSale(updated, ctx) : null;
    if (!sale && ctx.alive()) ctx.rerender();
  }
  async function remove() {
    const ok = await confirmDialog({ title: t('opp.delete_title'), message: t('opp.delete_confirm', { name: o.title }), okText: t('common.delete'), danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/opportunities/${o.id}`);
      toast(t('opp.deleted'), 'success');
      ctx.go('#/opportunities');
    } catch (err) { showError(err); }
  }

  const historyBox = h('div', { class: 'list-box timeline' });
  replace(ctx.main,
    h('article', { class: 'card detail', 'data-testid': 'opportunity-detail', 'data-id': String(o.id) },
      h('header', { class: 'detail-head' },
        h('div', { class: 'detail-title' },
          h('h2', { class: 'detail-name', 'data-testid': 'opp-title' }, o.title),
          h('div', { class: 'detail-chips' }, stageChip(o), h('a', { href: `#/customers/${o.customer_id}`, 'data-testid': 'opp-customer' }, o.customer_name))),
        h('div', { class: 'actions' },
          can('opportunity.edit') ? h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'opportunity-move', onclick: move }, icon('move'), t('pipeline.move_to')) : null,
          o.status === 'won' && !o.sale_id && can('sale.create') ? h('button', {
            type: 'button', class: 'btn btn-primary', 'data-testid': 'opportunity-make-sale',
            onclick: async (e) => { e.currentTarget.disabled = true; if (!(await makeSale(o, ctx))) e.currentTarget.disabled = false; },
          }, t('opp.make_sale')) : null,
          o.sale_id && can('sale.view') ? h('a', { class: 'btn', href: `#/sales/${o.sale_id}`, 'data-testid': 'opportunity-sale-link' }, t('opp.view_sale')) : null,
          can('reminder.create') ? h('button', { type: 'button', class: 'btn', 'data-testid': 'opportunity-remind', onclick: () => openReminderForm({ customer: { id: o.customer_id, name: o.customer_name }, opportunity: o }) }, t('reminder.action')) : null,
          can('opportunity.edit') ? h('a', { class: 'btn', href: `#/opportunities/${o.id}/edit`, 'data-testid': 'opportunity-edit' }, t('common.edit')) : null,
          can('opportunity.delete') ? h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'opportunity-delete', onclick: remove }, t('common.delete')) : null)),
      stageTrack(o, st),
      h('div', { class: 'amount-strip' },
        h('div', null, h('span', { class: 'summary-label' }, t('opp.amount')), h('strong', { class: 'money', 'data-testid': 'opp-amount' }, fmtMoney(o.amount_fen))),
        h('div', null, h('span', { class: 'summary-label' }, t('opp.probability')), h('strong', { 'data-testid': 'opp-probability' }, `${o.probability}%`)),
        h('div', null, h('span', { class: 'summary-label' }, t('opp.expected_close_date')), h('strong', null, o.expected_close_date || t('common.none')))),
      h('section', null,
        h('h3', { class: 'section-title' }, t('opp.lines')),
        linesTable(o.lines)),
      h('section', null,
        h('h3', { class: 'section-title' }, t('customer.section_basic')),
        h('dl', { class: 'fields' },
          item(t('opp.status'), t(`opp.status.${o.status}`), 'status'),
          o.status === 'lost' ? item(t('opp.lost_reason'), label(st.lost_reasons, o.lost_reason), 'lost_reason') : null,
          o.closed_at ? item(t('opp.closed_at'), fmtTime(o.closed_at), 'closed_at') : null,
          item(t('opp.owner'), o.owner_name, 'owner'),
          item(t('customer.department'), o.department_name, 'department'),
          item(t('opp.notes'), o.notes ? h('span', { class: 'pre' }, o.notes) : '', 'notes'),
          item(t('customer.created_by'), o.created_by_name, 'created_by'),
          item(t('customer.created_at'), fmtTime(o.created_at), 'created_at'),
          item(t('customer.updated_at'), fmtTime(o.updated_at), 'updated_at'))),
      h('section', null,
        h('h3', { class: 'section-title' }, t('opp.history')),
        historyBox)));

  endlessList({
    ctx, container: historyBox, emptyText: t('common.empty'),
    fetchPage: (page, pageSize) => api('GET', `/opportunities/${o.id}/history`, { query: { page, page_size: pageSize } }),
    renderItem: historyRow,
  }).reset();
}
