// 销售数据详情: amount, customer, date, salesperson, opportunity, lines; 编辑 and 删除 (to the recycle bin).
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { fmtTime, confirmDialog, toast, showError } from '../ui.js';
import { fmtMoney } from '../format.js';

function item(label, value, testid) {
  const empty = value === null || value === undefined || value === '';
  return [h('dt', null, label), h('dd', { class: empty ? 'muted' : null, 'data-testid': testid ? `sale-${testid}` : null }, empty ? t('common.none') : value)];
}

// A table of line items (sales and opportunities).
export function linesTable(lines) {
  if (!lines || !lines.length) return h('p', { class: 'muted' }, t('lines.none'));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'lines-table', 'data-testid': 'lines-table' },
    h('thead', null, h('tr', null,
      h('th', null, t('lines.product')), h('th', { class: 'num' }, t('lines.quantity')),
      h('th', { class: 'num' }, t('lines.unit_price_col')), h('th', { class: 'num' }, t('lines.line_total')))),
    h('tbody', null, lines.map((l) => h('tr', null,
      h('td', null, l.product_name, l.product_code ? h('small', { class: 'muted' }, ` ${l.product_code}`) : null),
      h('td', { class: 'num' }, `${l.quantity}${l.unit ? ` ${l.unit}` : ''}`),
      h('td', { class: 'num' }, fmtMoney(l.unit_price_fen)),
      h('td', { class: 'num' }, fmtMoney(l.total_fen))))),
    h('tfoot', null, h('tr', null, h('td', { colspan: '3' }, t('lines.total')),
      h('td', { class: 'num' }, fmtMoney(lines.reduce((a, l) => a + BigInt(l.total_fen), 0n)))))));
}

export async function saleDetailPage(ctx) {
  const id = ctx.params[0];
  ctx.setBack('#/sales');
  ctx.setTitle(t('sale.detail'));
  const s = await api('GET', `/sales/${id}`);
  if (!ctx.alive()) return;

  async function remove() {
    const ok = await confirmDialog({ title: t('sale.delete_title'), message: t('sale.delete_confirm', { amount: fmtMoney(s.amount_fen), name: s.customer_name }), okText: t('common.delete'), danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/sales/${s.id}`);
      toast(t('sale.deleted'), 'success');
      ctx.go('#/sales');
    } catch (err) { showError(err); }
  }

  replace(ctx.main,
    h('article', { class: 'card detail', 'data-testid': 'sale-detail', 'data-id': String(s.id) },
      h('header', { class: 'detail-head' },
        h('div', null,
          h('div', { class: 'detail-kicker' }, t('nav.sales')),
          h('h2', { class: 'detail-name money', 'data-testid': 'sale-amount' }, fmtMoney(s.amount_fen)),
          h('div', { class: 'detail-chips' }, h('a', { href: `#/customers/${s.customer_id}`, 'data-testid': 'sale-customer' }, s.customer_name), h('span', { class: 'muted mono' }, s.sale_date))),
        h('div', { class: 'actions' },
          can('sale.edit') ? h('a', { class: 'btn btn-primary', href: `#/sales/${s.id}/edit`, 'data-testid': 'sale-edit' }, t('common.edit')) : null,
          can('sale.delete') ? h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'sale-delete', onclick: remove }, t('common.delete')) : null)),
      h('section', null,
        h('h3', { class: 'section-title' }, t('sale.lines')),
        linesTable(s.lines)),
      h('section', null,
        h('h3', { class: 'section-title' }, t('customer.section_basic')),
        h('dl', { class: 'fields' },
          item(t('sale.sale_date'), s.sale_date, 'date'),
          item(t('sale.owner'), s.owner_name, 'owner'),
          item(t('customer.department'), s.department_name, 'department'),
          item(t('sale.opportunity'), s.opportunity_id ? h('a', { href: `#/opportunities/${s.opportunity_id}` }, s.opportunity_title || `#${s.opportunity_id}`) : '', 'opportunity'),
          item(t('sale.notes'), s.notes ? h('span', { class: 'pre' }, s.notes) : '', 'notes'),
          item(t('customer.created_by'), s.created_by_name, 'created_by'),
          item(t('customer.created_at'), fmtTime(s.created_at), 'created_at'),
          item(t('customer.updated_at'), fmtTime(s.updated_at), 'updated_at')))));
}
