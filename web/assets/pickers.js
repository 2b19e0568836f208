// Form pieces shared by several pages: the customer picker (search as you type) and
// the line-item editor (product × quantity × unit price, with a running total).
import { h, replace, clear, icon } from './dom.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { debounce, showError } from './ui.js';
import { fmtMoney, fenToInput, parseMoney, lineTotal } from './format.js';

// customerPicker: pick one customer the person can see. The input carries
// data-testid `testid` (default field-customer_id); options are `picker-option` with data-id.
// initial: {id, name, company?} or null; exclude: an id not to offer (merging).
export function customerPicker({ initial, exclude, testid = 'field-customer_id', id = 'f-customer_id', placeholder, onChange, source } = {}) {
  let chosen = initial && initial.id ? initial : null;
  const input = h('input', {
    type: 'search', id, 'data-testid': testid, autocomplete: 'off', enterkeyhint: 'search',
    placeholder: placeholder || t('picker.customer_placeholder'), 'aria-autocomplete': 'list',
  });
  const menu = h('div', { class: 'picker-menu', role: 'listbox', hidden: true });
  const chosenBox = h('div', { class: 'picker-chosen', hidden: true });
  const box = h('div', { class: 'picker' }, chosenBox, input, menu);
  let gen = 0;

  function draw() {
    if (chosen) {
      replace(chosenBox,
        h('span', { class: 'picker-text' },
          h('span', { class: 'picker-name', 'data-testid': 'picker-chosen' }, chosen.name),
          chosen.company ? h('span', { class: 'picker-sub' }, chosen.company) : null),
        h('button', {
          type: 'button', class: 'btn btn-text btn-sm picker-change', 'data-testid': 'picker-clear',
          onclick: () => { set(null); input.focus(); },
        }, t('picker.change')));
      chosenBox.hidden = false;
      input.hidden = true;
      menu.hidden = true;
    } else {
      chosenBox.hidden = true;
      input.hidden = false;
    }
  }
  function set(c) {
    chosen = c && c.id ? c : null;
    input.value = '';
    draw();
    if (onChange) onChange(chosen);
  }
  const search = debounce(async () => {
    const q = input.value.trim();
    const my = ++gen;
    if (q.length < 2) { menu.hidden = true; clear(menu); return; }
    try {
      const res = await (source ? source(q) : api('GET', '/customers', { query: { q, page_size: 8, sort: 'name' } }));
      if (my !== gen) return;
      const items = ((res && res.items) || []).filter((c) => c.id !== exclude);
      replace(menu, items.length ? items.map((c) => h('button', {
        type: 'button', class: 'picker-option', role: 'option', 'data-testid': 'picker-option', 'data-id': String(c.id),
        onmousedown: (e) => e.preventDefault(), // keep focus until the click lands
        onclick: () => set({ id: c.id, name: c.name, company: c.company }),
      }, h('span', { class: 'picker-name' }, c.name),
      h('span', { class: 'picker-sub' }, [c.company, c.owner_name].filter(Boolean).join(' · ')))) : h('div', { class: 'picker-empty' }, t('picker.no_match')));
      menu.hidden = false;
    } catch (err) { if (my === gen) showError(err); }
  }, 250);
  input.addEventListener('input', search);
  input.addEventListener('blur', () => setTimeout(() => { menu.hidden = true; }, 200));
  input.addEventListener('focus', () => { if (menu.firstChild && input.value.trim().length >= 2) menu.hidden = false; });
  draw();
  return { el: box, input, value: () => (chosen ? chosen.id : null), chosen: () => chosen, set };
}

// lineEditor: rows of product, quantity, unit price (yuan), line total; a running total.
// lines: the record's lines (Line objects from the API); catalogue: active products.
export function lineEditor({ lines, catalogue, onChange }) {
  const known = new Map();
  for (const p of catalogue || []) known.set(p.id, p);
  for (const l of lines || []) {
    if (!known.has(l.product_id)) {
      known.set(l.product_id, { id: l.product_id, name: l.product_name, code: l.product_code, unit: l.unit, unit_price_fen: l.unit_price_fen, inactive: true });
    }
  }
  const rows = [];
  const list = h('div', { class: 'lines', 'data-testid': 'lines' });
  const totalEl = h('strong', { class: 'lines-total-amount', 'data-testid': 'lines-total' });
  const addBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'line-add', onclick: () => { addRow(null); changed(); rows[rows.length - 1].product.focus(); } }, icon('plus'), t('lines.add'));
  const el = h('div', { class: 'line-editor' }, list,
    h('div', { class: 'lines-foot' }, addBtn,
      h('span', { class: 'lines-total' }, t('lines.total'), ' ', totalEl)));

  function productOptions(selected) {
    const opts = [h('option', { value: '' }, t('lines.pick_product'))];
    for (const p of known.values()) {
      if (p.inactive && p.id !== selected) continue;
      opts.push(h('option', { value: String(p.id), selected: p.id === selected },
        `${p.name}${p.unit ? ` / ${p.unit}` : ''}${p.inactive ? `（${t('lines.inactive')}）` : ''}`));
    }
    return opts;
  }

  function addRow(line) {
    const product = h('select', { class: 'line-product', 'data-testid': 'line-product', 'aria-label': t('lines.product') }, productOptions(line ? line.product_id : null));
    const quantity = h('input', { type: 'number', class: 'line-qty', 'data-testid': 'line-quantity', min: '1', step: '1', inputmode: 'numeric', value: line ? String(line.quantity) : '1', 'aria-label': t('lines.quantity') });
    const price = h('input', { type: 'text', class: 'line-price', 'data-testid': 'line-price', inputmode: 'decimal', value: line ? fenToInput(line.unit_price_fen) : '', 'aria-label': t('lines.unit_price'), placeholder: '0.00' });
    const total = h('span', { class: 'line-total', 'data-testid': 'line-total' });
    const error = h('div', { class: 'field-error line-error', role: 'alert' });
    const row = { product, quantity, price, total, error };
    const remove = h('button', {
      type: 'button', class: 'icon-btn line-remove', 'data-testid': 'line-remove', 'aria-label': t('lines.remove'), title: t('lines.remove'),
      onclick: () => { rows.splice(rows.indexOf(row), 1); row.el.remove(); changed(); },
    }, icon('close'));
    row.el = h('div', { class: 'line-row', 'data-testid': 'line-row' },
      h('div', { class: 'line-cell line-cell-product' }, product),
      h('label', { class: 'line-cell' }, h('span', { class: 'line-label' }, t('lines.quantity')), quantity),
      h('label', { class: 'line-cell' }, h('span', { class: 'line-label' }, t('lines.unit_price')), price),
      h('div', { class: 'line-cell line-cell-total' }, h('span', { class: 'line-label' }, t('lines.line_total')), total),
      remove, error);
    product.addEventListener('change', () => {
      const p = known.get(Number(product.value));
      if (p) price.value = fenToInput(p.unit_price_fen);
      changed();
    });
    quantity.addEventListener('input', changed);
    price.addEventListener('input', changed);
    rows.push(row);
    list.appendChild(row.el);
  }

  function rowValue(r) {
    const q = Number(r.quantity.value);
    const p = parseMoney(r.price.value);
    return { product_id: Number(r.product.value) || 0, quantity: q, unit_price_fen: p };
  }

  function totalFen() {
    let sum = 0n;
    for (const r of rows) {
      const v = rowValue(r);
      const lt = (v.product_id && Number.isInteger(v.quantity) && v.quantity > 0 && Number.isInteger(v.unit_price_fen)) ? lineTotal(v.quantity, v.unit_price_fen) : 0n;
      r.total.textContent = fmtMoney(lt);
      sum += lt;
    }
    return sum;
  }

  function changed() {
    const sum = totalFen();
    totalEl.textContent = fmtMoney(sum);
    if (onChange) onChange(sum);
  }

  for (const l of lines || []) addRow(l);
  changed();

  return {
    el,
    totalFen,
    count: () => rows.length,
    // The lines for the API, or null with messages shown under the rows.
    value() {
      let ok = true;
      const out = [];
      rows.forEach((r) => {
        r.error.textContent = '';
        r.el.classList.remove('has-error');
        const v = rowValue(r);
        const problems = [];
        if (!v.product_id) problems.push(t('lines.err_product'));
        if (!Number.isInteger(v.quantity) || v.quantity < 1 || v.quantity > 1000000) problems.push(t('lines.err_quantity'));
        if (v.unit_price_fen === null || Number.isNaN(v.unit_price_fen)) problems.push(t('lines.err_price'));
        if (problems.length) {
          ok = false;
          r.error.textContent = problems.join('；');
          r.el.classList.add('has-error');
        } else out.push(v);
      });
      return ok ? out : null;
    },
    // Shows the server's per-line problems (fields["lines[1].quantity"]); returns the other fields.
    showErrors(fields) {
      const rest = {};
      for (const r of rows) { r.error.textContent = ''; r.el.classList.remove('has-error'); }
      for (const [k, msg] of Object.entries(fields || {})) {
        const m = /^lines\[(\d+)\]/.exec(k);
        if (m && rows[Number(m[1])]) {
          const r = rows[Number(m[1])];
          r.error.textContent = r.error.textContent ? `${r.error.textContent}；${msg}` : msg;
          r.el.classList.add('has-error');
        } else rest[k] = msg;
      }
      return rest;
    },
  };
}

// linesWithAmount is the line-item editor of a record whose amount follows
// its lines until the person types their own (a discount, a rounded price):
// an edited record whose amount differs from its lines keeps it.
export function linesWithAmount(amount, rec, editing, catalogue) {
  const linesSum = (rec.lines || []).reduce((a, l) => a + BigInt(l.total_fen), 0n);
  let amountTouched = editing && (!(rec.lines || []).length || BigInt(rec.amount_fen) !== linesSum);
  amount.addEventListener('input', () => { amountTouched = amount.value.trim() !== ''; });
  return lineEditor({
    lines: rec.lines || [], catalogue,
    onChange: (sum) => {
      if (!amountTouched) amount.value = sum > 0n ? fenToInput(sum) : '';
      amount.placeholder = fenToInput(sum);
    },
  });
}
