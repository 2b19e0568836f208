// 添加客户 / 编辑客户: the create and edit form. Edit sends only what changed, with `version`.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { field, select, toLocalInput, fromLocalInput, toast, formError, clearFieldErrors, showFieldErrors, confirmDialog, tn, showError, optionChoices } from '../ui.js';

const MAX_TAGS = 10;

// A chip input: Enter or a comma (， too) turns the typed text into a tag.
function tagInput(initial) {
  let tags = [...(initial || [])];
  const chips = h('span', { class: 'tag-chips' });
  const input = h('input', { type: 'text', class: 'tag-text', maxlength: '20', placeholder: t('customer.tags_placeholder'), autocomplete: 'off', list: 'tag-presets' });
  // The company's preset tags (系统设置 → 客户标签) are offered as suggestions; tags stay free text.
  const presets = h('datalist', { id: 'tag-presets', 'data-testid': 'tag-presets' },
    ((state.options && state.options.tags) || []).map((o) => h('option', { value: o.label })));
  const box = h('div', { class: 'tag-input', onclick: (e) => { if (e.target === box) input.focus(); } }, chips, input, presets);

  function draw() {
    chips.replaceChildren(...tags.map((tag, i) => h('span', { class: 'chip chip-tag chip-removable' }, tag,
      h('button', { type: 'button', class: 'chip-x', 'aria-label': t('customer.tag_remove', { tag }), onclick: () => { tags.splice(i, 1); draw(); } }, '×'))));
  }
  function addFrom(text) {
    for (const part of text.split(/[,，、;；]/)) {
      const v = part.trim();
      if (v && !tags.includes(v) && tags.length < MAX_TAGS) tags.push(v);
    }
    draw();
  }
  input.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ',') && !e.isComposing) {
      if (input.value.trim()) { e.preventDefault(); addFrom(input.value); input.value = ''; }
      else if (e.key === ',') e.preventDefault();
    } else if (e.key === 'Backspace' && !input.value && tags.length) {
      tags.pop(); draw();
    }
  });
  input.addEventListener('input', () => {
    if (/[,，、;；]/.test(input.value)) { addFrom(input.value); input.value = ''; }
  });
  input.addEventListener('blur', () => { if (input.value.trim()) { addFrom(input.value); input.value = ''; } });
  draw();
  return { box, input, value: () => { if (input.value.trim()) { addFrom(input.value); input.value = ''; } return [...tags]; } };
}

// The notice for a 409 duplicate (error.detail.duplicate, docs/api-pool.md): who has the
// existing customer, with a link when the person may open it.
export function duplicateNotice(d) {
  const name = d.visible && d.name
    ? h('a', { href: d.in_pool ? `#/pool?q=${encodeURIComponent(d.name)}` : `#/customers/${d.id}`, 'data-testid': 'duplicate-link' }, d.name)
    : null;
  let text;
  if (d.in_pool) text = name ? tn('dup.in_pool', { name }) : tn('dup.in_pool_hidden');
  else if (name) text = tn('dup.with_owner', { name, owner: d.owner_name || t('common.unknown') });
  else text = tn('dup.hidden', { owner: d.owner_name || t('common.unknown') });
  const why = d.match === 'phone' ? t('dup.match_phone') : t('dup.match_name');
  return h('div', { class: 'notice notice-warn', role: 'alert', 'data-testid': 'duplicate-notice' },
    h('strong', null, why), ' ', text);
}

function optSelect(kind, value) {
  return select([{ value: '', label: t('common.unset') }, ...optionChoices(kind, value)], value || '');
}

export async function customerFormPage(ctx) {
  const id = ctx.params[0];
  const editing = !!id;
  ctx.setBack(editing ? `#/customers/${id}` : '#/customers');
  ctx.setTitle(editing ? t('customer.edit_title') : t('customer.add'));

  let original = null;
  if (editing) {
    original = await api('GET', `/customers/${id}`);
    if (!ctx.alive()) return;
    ctx.setTitle(t('customer.edit_title'));
  }
  let owners = null;
  if (can('customer.assign') && can('user.view')) {
    try {
      const res = await api('GET', '/users', { query: { page_size: 100, active: 'true' } });
      owners = (res && res.items) || [];
    } catch (err) { if (err.status === 401) throw err; }
    if (!ctx.alive()) return;
  }
  const c = original || {};

  const inputs = {
    name: h('input', { type: 'text', maxlength: '100', value: c.name || '', autocomplete: 'off' }),
    phone: h('input', { type: 'tel', maxlength: '20', value: c.phone || '', inputmode: 'tel', autocomplete: 'off' }),
    company: h('input', { type: 'text', maxlength: '100', value: c.company || '', autocomplete: 'off' }),
    address: h('input', { type: 'text', maxlength: '200', value: c.address || '', autocomplete: 'off' }),
    industry: optSelect('industries', c.industry),
    source: optSelect('sources', c.source),
    level: optSelect('levels', c.level),
    status: optSelect('statuses', c.status),
    next_follow_at: h('input', { type: 'datetime-local', value: toLocalInput(c.next_follow_at) }),
    note: h('textarea', { rows: '4', maxlength: '2000' }),
  };
  inputs.note.value = c.note || '';
  const tags = tagInput(c.tags);
  tags.input.id = 'f-tags';
  tags.input.setAttribute('data-testid', 'field-tags');
  if (owners) {
    const opts = owners.map((u) => ({ value: String(u.id), label: u.name }));
    if (c.owner_id && !opts.some((o) => o.value === String(c.owner_id))) opts.unshift({ value: String(c.owner_id), label: c.owner_name || String(c.owner_id) });
    inputs.owner_id = select([{ value: '', label: t('customer.owner_me') }, ...opts], c.owner_id ? String(c.owner_id) : '');
  }

  // The body as the server wants it.
  function collect() {
    const v = {
      name: inputs.name.value.trim(),
      phone: inputs.phone.value.trim(),
      company: inputs.company.value.trim(),
      address: inputs.address.value.trim(),
      industry: inputs.industry.value,
      source: inputs.source.value,
      level: inputs.level.value,
      status: inputs.status.value,
      tags: tags.value(),
      note: inputs.note.value.trim(),
      next_follow_at: fromLocalInput(inputs.next_follow_at.value),
    };
    if (inputs.owner_id && inputs.owner_id.value) v.owner_id = Number(inputs.owner_id.value);
    return v;
  }

  function changes(v) {
    const out = {};
    for (const [k, val] of Object.entries(v)) {
      const old = c[k];
      if (k === 'tags') { if (JSON.stringify(val) !== JSON.stringify(old || [])) out[k] = val; }
      else if (k === 'next_follow_at') { if (toLocalInput(val) !== toLocalInput(old)) out[k] = val; }
      else if (k === 'owner_id') { if (val !== old) out[k] = val; }
      else if ((val || '') !== (old || '')) out[k] = val;
    }
    return out;
  }

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.save'));
  const dupBox = h('div', { class: 'dup-box' });
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'customer-form' },
    dupBox,
    h('div', { class: 'form-grid' },
      field('name', t('customer.name'), inputs.name, { required: true }),
      field('phone', t('customer.phone'), inputs.phone, { hint: t('customer.phone_hint') }),
      field('company', t('customer.company'), inputs.company),
      field('address', t('customer.address'), inputs.address),
      field('industry', t('customer.industry'), inputs.industry),
      field('source', t('customer.source'), inputs.source),
      field('level', t('customer.level'), inputs.level),
      field('status', t('customer.status'), inputs.status),
      field('next_follow_at', t('customer.next_follow_at'), inputs.next_follow_at, { hint: t('customer.time_zone_hint') }),
      inputs.owner_id ? field('owner_id', t('customer.owner'), inputs.owner_id) : null,
      field('tags', t('customer.tags'), tags.box, { wide: true, hint: t('customer.tags_hint') }),
      field('note', t('customer.note'), inputs.note, { wide: true })),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn', href: editing ? `#/customers/${id}` : '#/customers', 'data-testid': 'form-cancel' }, t('common.cancel')),
      saveBtn));

  let saving = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (saving) return;
    clearFieldErrors(form);
    dupBox.replaceChildren();
    const v = collect();
    if (!v.name) { showFieldErrors(form, { name: t('customer.name_required') }); return; }
    let body;
    if (editing) {
      body = changes(v);
      if (Object.keys(body).length === 0) { toast(t('form.no_changes')); ctx.go(`#/customers/${id}`); return; }
      body.version = c.version;
    } else {
      body = {};
      for (const [k, val] of Object.entries(v)) {
        if (val === '' || val === null || (Array.isArray(val) && val.length === 0)) continue;
        body[k] = val;
      }
    }
    saving = true;
    saveBtn.disabled = true;
    try {
      const saved = editing
        ? await api('PATCH', `/customers/${id}`, { body })
        : await api('POST', '/customers', { body });
      toast(t('form.saved'), 'success');
      ctx.go(`#/customers/${saved && saved.id ? saved.id : id}`);
    } catch (err) {
      const dup = err.status === 409 && err.detail && err.detail.duplicate;
      if (dup) {
        dupBox.replaceChildren(duplicateNotice(dup));
        showFieldErrors(form, { [dup.match === 'phone' ? 'phone' : 'name']: err.message });
        dupBox.scrollIntoView({ block: 'center', behavior: 'smooth' });
        showError(err);
      } else if (err.status === 409 && editing && !err.fields) {
        const reload = await confirmDialog({ title: t('customer.conflict_title'), message: t('customer.conflict_text'), okText: t('customer.conflict_reload') });
        if (reload && ctx.alive()) ctx.rerender();
      } else formError(form, err);
    } finally {
      saving = false;
      saveBtn.disabled = false;
    }
  });

  replace(ctx.main, form);
  if (!editing) inputs.name.focus();
}
