// Moving an opportunity between stages (the kanban's drag, its 移动到… picker and the
// detail page's button): 输单 asks for the lost reason; 赢单 offers 生成销售数据.
import { h } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { actionSheet, formModal, field, select, showFieldErrors, toast, showError, openModal } from '../ui.js';
import { fmtMoney } from '../format.js';

// A sheet with every stage; resolves the chosen Stage or null.
export async function chooseStage(opp, st) {
  const items = st.items.map((s) => ({
    value: s.id,
    label: s.name,
    sub: `${s.probability}%`,
    testid: `stage-option-${s.code}`,
    current: s.id === opp.stage_id,
    danger: s.kind === 'lost',
  }));
  const id = await actionSheet({ title: t('pipeline.move_to'), note: opp.title, items });
  if (!id || id === opp.stage_id) return null;
  return st.items.find((s) => s.id === id) || null;
}

function askLostReason(opp, reasons) {
  return new Promise((resolve) => {
    let answer = null;
    const sel = select([{ value: '', label: t('common.unset') }, ...reasons], '');
    formModal({
      title: t('opp.lost_title'),
      okText: t('opp.mark_lost'),
      testid: 'lost-form',
      intro: h('p', { class: 'muted form-intro' }, t('opp.lost_text', { name: opp.title })),
      fields: [field('lost_reason', t('opp.lost_reason'), sel, { required: true, wide: true })],
      submit: async (form) => {
        if (!sel.value) { showFieldErrors(form, { lost_reason: t('opp.lost_reason_required') }); return false; }
        answer = sel.value;
        return true;
      },
      onClose: () => resolve(answer),
    });
  });
}

// 生成销售数据 from a won opportunity, then open the new sale.
export async function makeSale(opp, ctx) {
  try {
    const sale = await api('POST', `/opportunities/${opp.id}/sale`, { body: {} });
    toast(t('opp.sale_made', { amount: fmtMoney(sale.amount_fen) }), 'success');
    ctx.go(`#/sales/${sale.id}`);
    return sale;
  } catch (err) { showError(err); return null; }
}

// After 赢单: offer to record the sale now.
export function offerSale(opp, ctx) {
  if (!can('sale.create') || opp.sale_id) return Promise.resolve(null);
  return new Promise((resolve) => {
    let result = null;
    const ok = h('button', {
      type: 'button', class: 'btn btn-primary', 'data-testid': 'won-make-sale',
      onclick: async () => { ok.disabled = true; result = await makeSale(opp, ctx); m.close(); },
    }, t('opp.make_sale'));
    const m = openModal({
      title: t('opp.won_title'),
      body: h('div', { class: 'won-box', 'data-testid': 'won-dialog' },
        h('div', { class: 'won-amount money' }, fmtMoney(opp.amount_fen)),
        h('p', { class: 'confirm-text' }, t('opp.won_text', { name: opp.title, customer: opp.customer_name }))),
      footer: [h('button', { type: 'button', class: 'btn', 'data-testid': 'won-later', onclick: () => m.close() }, t('opp.later')), ok],
      onClose: () => resolve(result),
    });
  });
}

// Moves opp to stage; resolves the updated Opportunity, or null when cancelled or refused.
// opts.ctx: the page (for opening the sale), opts.offer: false to skip the 赢单 offer.
export async function moveOpportunity(opp, stage, st, { ctx, offer = true, onStale } = {}) {
  if (!stage || stage.id === opp.stage_id) return null;
  const body = { stage_id: stage.id, version: opp.version };
  if (stage.kind === 'lost') {
    const reason = await askLostReason(opp, st.lost_reasons || []);
    if (!reason) return null;
    body.lost_reason = reason;
  }
  let updated;
  try {
    updated = await api('POST', `/opportunities/${opp.id}/stage`, { body });
  } catch (err) {
    if (err.status === 409) { toast(t('common.stale'), 'error'); if (onStale) onStale(); }
    else showError(err);
    return null;
  }
  toast(t('pipeline.moved', { name: updated.title, stage: updated.stage_name }), 'success');
  if (stage.kind === 'won' && offer && ctx) offerSale(updated, ctx);
  return updated;
}
