// 添加销售机会 / 编辑销售机会: customer, title, lines (products × quantity × price), amount,
// expected close date, owner, stage (probability follows it unless typed), lost reason, notes.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { field, select, toast, clearFieldErrors, showFieldErrors } from '../ui.js';
import { fenToInput, parseMoney } from '../format.js';
import { products, people, stages } from '../catalog.js';
import { customerPicker, linesWithAmount } from '../pickers.js';
import { saveRecord } from '../save.js';

export async function opportunityFormPage(ctx) {
  const id = ctx.params[0];
  const editing = !!id;
  const presetCustomer = ctx.query.get('customer_id');
  ctx.setBack(editing ? `#/opportunities/${id}` : (presetCustomer ? `#/customers/${presetCustomer}?tab=opportunities` : '#/pipeline'));
  ctx.setTitle(editing ? t('opp.edit') : t('opp.add'));

  const [record, catalogue, st, owners, preset] = await Promise.all([
    editing ? api('GET', `/opportunities/${id}`) : null,
    products(),
    stages(),
    can('opportunity.assign') ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
    !editing && presetCustomer ? api('GET', `/customers/${presetCustomer}`).catch((err) => { if (err.status === 401) throw err; return null; }) : null,
  ]);
  if (!ctx.alive()) return;
  const o = record || {};
  const initialCustomer = record ? { id: o.customer_id, name: o.customer_name } : (preset ? { id: preset.id, name: preset.name, company: preset.company } : null);
  const presetStage = st.items.find((s) => String(s.id) === ctx.query.get('stage_id'));
  const firstOpen = presetStage || st.items.find((s) => s.kind === 'open') || st.items[0];

  const picker = customerPicker({ initial: initialCustomer });
  const inputs = {
    title: h('input', { type: 'text', maxlength: '100', value: o.title || '', autocomplete: 'off' }),
    amount: h('input', { type: 'text', inputmode: 'decimal', value: editing ? fenToInput(o.amount_fen) : '', autocomplete: 'off', placeholder: '0.00' }),
    expected_close_date: h('input', { type: 'date', value: o.expected_close_date || '' }),
    stage_id: select(st.items.map((s) => ({ value: String(s.id), label: s.kind === 'open' ? `${s.name}（${s.probability}%）` : s.name })), String(o.stage_id || firstOpen.id)),
    probability: h('input', { type: 'number', min: '0', max: '100', step: '1', inputmode: 'numeric', value: String(o.probability ?? firstOpen.probability) }),
    lost_reason: select([{ value: '', label: t('common.unset') }, ...(st.lost_reasons || [])], o.lost_reason || ''),
    notes: h('textarea', { rows: '3', maxlength: '2000' }),
  };
  inputs.notes.value = o.notes || '';
  inputs.amount.id = 'f-amount_fen';
  inputs.amount.setAttribute('data-testid', 'field-amount_fen');

  const lines = linesWithAmount(inputs.amount, o, editing, catalogue);

  let probTouched = false;
  inputs.probability.addEventListener('input', () => { probTouched = true; });
  const lostField = field('lost_reason', t('opp.lost_reason'), inputs.lost_reason, { required: true });
  const stageOf = () => st.items.find((s) => String(s.id) === inputs.stage_id.value);
  const syncStage = () => {
    const s = stageOf();
    lostField.hidden = !s || s.kind !== 'lost';
    if (!probTouched && s) inputs.probability.value = String(s.probability);
  };
  inputs.stage_id.addEventListener('change', syncStage);
  syncStage();

  let ownerSel = null;
  if (owners) {
    const opts = owners.map((u) => ({ value: String(u.id), label: u.name }));
    if (o.owner_id && !opts.some((x) => x.value === String(o.owner_id))) opts.unshift({ value: String(o.owner_id), label: o.owner_name || `#${o.owner_id}` });
    ownerSel = select([{ value: '', label: t('opp.owner_me') }, ...opts], o.owner_id && o.owner_id !== state.me.id ? String(o.owner_id) : '');
  }

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.save'));
  const cancelHref = editing ? `#/opportunities/${id}` : (presetCustomer ? `#/customers/${presetCustomer}?tab=opportunities` : '#/pipeline');
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'opportunity-form' },
    h('div', { class: 'form-grid' },
      field('title', t('opp.title'), inputs.title, { required: true }),
      field('customer_id', t('opp.customer'), picker.el, { required: true }),
      field('stage_id', t('opp.stage'), inputs.stage_id),
      field('probability', t('opp.probability_pct'), inputs.probability, { hint: t('opp.probability_hint') }),
      lostField,
      field('expected_close_date', t('opp.expected_close_date'), inputs.expected_close_date),
      ownerSel ? field('owner_id', t('opp.owner'), ownerSel) : null,
      field('lines', t('opp.lines'), lines.el, { wide: true }),
      field('amount_fen', t('opp.amount'), inputs.amount, { hint: t('opp.amount_hint') }),
      field('notes', t('opp.notes'), inputs.notes, { wide: true })),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn', href: cancelHref, 'data-testid': 'form-cancel' }, t('common.cancel')),
      saveBtn));

  let saving = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    clearFieldErrors(form);
    const missing = {};
    const v = {
      title: inputs.title.value.trim(),
      customer_id: picker.value(),
      stage_id: Number(inputs.stage_id.value),
      expected_close_date: inputs.expected_close_date.value || null,
      notes: inputs.notes.value.trim(),
    };
    const stage = stageOf();
    if (!v.title) missing.title = t('opp.title_required');
    if (!v.customer_id) missing.customer_id = t('sale.customer_required');
    if (stage && stage.kind === 'lost') {
      if (!inputs.lost_reason.value) missing.lost_reason = t('opp.lost_reason_required');
      else v.lost_reason = inputs.lost_reason.value;
    }
    const prob = Number(inputs.probability.value);
    if (probTouched && (!Number.isInteger(prob) || prob < 0 || prob > 100)) missing.probability = t('opp.probability_invalid');
    const amount = parseMoney(inputs.amount.value);
    if (Number.isNaN(amount)) missing.amount_fen = t('money.invalid');
    const lineValues = lines.value();
    if (Object.keys(missing).length || !lineValues) { showFieldErrors(form, missing); return; }
    v.lines = lineValues;
    if (amount !== null) v.amount_fen = amount;
    if (probTouched) v.probability = prob;
    if (ownerSel) v.owner_id = ownerSel.value ? Number(ownerSel.value) : state.me.id;

    let body;
    if (editing) {
      body = {};
      for (const k of ['title', 'customer_id', 'stage_id', 'expected_close_date', 'notes', 'lost_reason', 'probability', 'owner_id']) {
        if (v[k] !== undefined && (v[k] ?? '') !== (o[k] ?? '')) body[k] = v[k];
      }
      const oldLines = (o.lines || []).map((l) => ({ product_id: l.product_id, quantity: l.quantity, unit_price_fen: l.unit_price_fen }));
      if (JSON.stringify(oldLines) !== JSON.stringify(v.lines)) body.lines = v.lines;
      if (v.amount_fen !== undefined && (v.amount_fen !== o.amount_fen || body.lines)) body.amount_fen = v.amount_fen;
      if (!Object.keys(body).length) { toast(t('form.no_changes')); ctx.go(`#/opportunities/${id}`); return; }
      body.version = o.version;
    } else {
      body = {};
      for (const [k, val] of Object.entries(v)) {
        if (val === '' || val === null || val === undefined || (Array.isArray(val) && !val.length)) continue;
        body[k] = val;
      }
      if (ownerSel && !ownerSel.value) delete body.owner_id;
    }
    saving = true;
    saveBtn.disabled = true;
    try {
      await saveRecord(ctx, { form, editing, id, base: '/opportunities', route: '#/opportunities', body, lines });
    } finally {
      saving = false;
      saveBtn.disabled = false;
    }
  });

  replace(ctx.main, form);
  if (!editing) inputs.title.focus();
}
