// 添加销售数据 / 编辑销售数据: customer, date, salesperson, linked opportunity, line items
// from the product catalogue (quantity × unit price, running total), amount, notes.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { field, select, toast, clearFieldErrors, showFieldErrors, today, showError } from '../ui.js';
import { fmtMoney, fenToInput, parseMoney } from '../format.js';
import { products, people } from '../catalog.js';
import { customerPicker, linesWithAmount } from '../pickers.js';
import { saveRecord } from '../save.js';

export async function saleFormPage(ctx) {
  const id = ctx.params[0];
  const editing = !!id;
  ctx.setBack(editing ? `#/sales/${id}` : '#/sales');
  ctx.setTitle(editing ? t('sale.edit') : t('sale.add'));

  let s = {};
  let initialCustomer = null;
  const presetCustomer = ctx.query.get('customer_id');
  const [record, catalogue, owners] = await Promise.all([
    editing ? api('GET', `/sales/${id}`) : null,
    products(),
    can('sale.assign') ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
  ]);
  if (!ctx.alive()) return;
  if (record) {
    s = record;
    initialCustomer = { id: s.customer_id, name: s.customer_name };
  } else if (presetCustomer) {
    try {
      const c = await api('GET', `/customers/${presetCustomer}`);
      initialCustomer = { id: c.id, name: c.name, company: c.company };
    } catch (err) { if (err.status === 401) throw err; }
    if (!ctx.alive()) return;
    ctx.setBack(`#/customers/${presetCustomer}?tab=sales`);
  }

  const oppSelect = h('select', { 'data-testid': 'field-opportunity_id' });
  async function loadOpportunities(customerId) {
    replace(oppSelect, h('option', { value: '' }, t('sale.no_opportunity')));
    if (!customerId || !can('opportunity.view')) return;
    try {
      const r = await api('GET', '/opportunities', { query: { customer_id: customerId, page_size: 100 } });
      for (const o of (r && r.items) || []) {
        if (o.sale_id && o.id !== s.opportunity_id) continue;
        oppSelect.append(h('option', { value: String(o.id), selected: o.id === s.opportunity_id }, `${o.title}（${o.stage_name} · ${fmtMoney(o.amount_fen)}）`));
      }
    } catch (err) { showError(err); }
  }
  const picker = customerPicker({ initial: initialCustomer, onChange: (c) => loadOpportunities(c && c.id) });
  loadOpportunities(initialCustomer && initialCustomer.id);

  const inputs = {
    sale_date: h('input', { type: 'date', value: s.sale_date || today(), min: '2000-01-01', max: '2100-12-31' }),
    amount: h('input', { type: 'text', inputmode: 'decimal', value: editing ? fenToInput(s.amount_fen) : '', autocomplete: 'off', placeholder: '0.00' }),
    notes: h('textarea', { rows: '3', maxlength: '2000' }),
  };
  inputs.notes.value = s.notes || '';
  inputs.amount.setAttribute('data-testid', 'field-amount_fen');
  inputs.amount.id = 'f-amount_fen';
  const lines = linesWithAmount(inputs.amount, s, editing, catalogue);
  let ownerSel = null;
  if (owners) {
    const opts = owners.map((u) => ({ value: String(u.id), label: u.name }));
    if (s.owner_id && !opts.some((o) => o.value === String(s.owner_id))) opts.unshift({ value: String(s.owner_id), label: s.owner_name || `#${s.owner_id}` });
    ownerSel = select([{ value: '', label: t('sale.owner_me') }, ...opts], s.owner_id && s.owner_id !== state.me.id ? String(s.owner_id) : '');
  }

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.save'));
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'sale-form' },
    h('div', { class: 'form-grid' },
      field('customer_id', t('sale.customer'), picker.el, { required: true }),
      field('sale_date', t('sale.sale_date'), inputs.sale_date, { required: true }),
      ownerSel ? field('owner_id', t('sale.owner'), ownerSel) : null,
      field('opportunity_id', t('sale.opportunity'), oppSelect),
      field('lines', t('sale.lines'), lines.el, { wide: true }),
      field('amount_fen', t('sale.amount'), inputs.amount, { hint: t('sale.amount_hint') }),
      field('notes', t('sale.notes'), inputs.notes, { wide: true })),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn', href: editing ? `#/sales/${id}` : (presetCustomer ? `#/customers/${presetCustomer}?tab=sales` : '#/sales'), 'data-testid': 'form-cancel' }, t('common.cancel')),
      saveBtn));

  let saving = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    clearFieldErrors(form);
    const missing = {};
    const customerId = picker.value();
    if (!customerId) missing.customer_id = t('sale.customer_required');
    if (!inputs.sale_date.value) missing.sale_date = t('sale.date_required');
    const lineValues = lines.value();
    const amount = parseMoney(inputs.amount.value);
    if (Number.isNaN(amount)) missing.amount_fen = t('money.invalid');
    else if (amount === null && (!lineValues || lineValues.length === 0)) missing.amount_fen = t('sale.amount_required');
    if (Object.keys(missing).length || !lineValues) { showFieldErrors(form, missing); return; }
    const v = {
      customer_id: customerId,
      sale_date: inputs.sale_date.value,
      opportunity_id: oppSelect.value ? Number(oppSelect.value) : null,
      lines: lineValues,
      notes: inputs.notes.value.trim(),
    };
    if (amount !== null) v.amount_fen = amount;
    if (ownerSel) v.owner_id = ownerSel.value ? Number(ownerSel.value) : state.me.id;
    let body;
    if (editing) {
      body = {};
      if (v.customer_id !== s.customer_id) body.customer_id = v.customer_id;
      if (v.sale_date !== s.sale_date) body.sale_date = v.sale_date;
      if (v.opportunity_id !== (s.opportunity_id || null)) body.opportunity_id = v.opportunity_id;
      if ((v.notes || '') !== (s.notes || '')) body.notes = v.notes;
      if (ownerSel && v.owner_id !== s.owner_id) body.owner_id = v.owner_id;
      const oldLines = (s.lines || []).map((l) => ({ product_id: l.product_id, quantity: l.quantity, unit_price_fen: l.unit_price_fen }));
      if (JSON.stringify(oldLines) !== JSON.stringify(v.lines)) body.lines = v.lines;
      if (v.amount_fen !== undefined && (v.amount_fen !== s.amount_fen || body.lines)) body.amount_fen = v.amount_fen;
      if (!Object.keys(body).length) { toast(t('form.no_changes')); ctx.go(`#/sales/${id}`); return; }
      body.version = s.version;
    } else {
      body = { customer_id: v.customer_id, sale_date: v.sale_date };
      if (v.opportunity_id) body.opportunity_id = v.opportunity_id;
      if (v.lines.length) body.lines = v.lines;
      if (v.amount_fen !== undefined) body.amount_fen = v.amount_fen;
      if (v.notes) body.notes = v.notes;
      if (ownerSel && ownerSel.value) body.owner_id = v.owner_id;
    }
    saving = true;
    saveBtn.disabled = true;
    try {
      await saveRecord(ctx, { form, editing, id, base: '/sales', route: '#/sales', body, lines });
    } finally {
      saving = false;
      saveBtn.disabled = false;
    }
  });

  replace(ctx.main, form);
}
