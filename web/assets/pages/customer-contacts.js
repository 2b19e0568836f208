// 联系人 on the customer page: the customer's contacts (primary first), 添加/编辑/删除, 设为主联系人.
import { h, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { endlessList, field, formModal, formError, showFieldErrors, confirmDialog, toast, showError, chip } from '../ui.js';
import { exportFile } from './export.js';

const MAX_PHONES = 5;

// Up to five phone inputs with 添加电话; value() → the non-empty ones.
function phoneList(initial) {
  const box = h('div', { class: 'phone-list', id: 'l-phones-box' });
  const inputs = [];
  const addBtn = h('button', { type: 'button', class: 'btn btn-text btn-sm', 'data-testid': 'phone-add', onclick: () => { add(''); inputs[inputs.length - 1].focus(); } }, icon('plus'), t('contact.phone_add'));
  function add(v) {
    const i = inputs.length;
    const input = h('input', {
      type: 'tel', inputmode: 'tel', maxlength: '20', autocomplete: 'off', value: v || '',
      id: i === 0 ? 'f-phones' : `f-phones-${i}`, 'data-testid': i === 0 ? 'field-phones' : `field-phones-${i}`,
      'aria-label': `${t('contact.phones')} ${i + 1}`,
    });
    inputs.push(input);
    box.insertBefore(input, addBtn);
    addBtn.hidden = inputs.length >= MAX_PHONES;
  }
  box.append(addBtn);
  const list = (initial && initial.length) ? initial : [''];
  for (const p of list) add(p);
  box.value = () => inputs.map((i) => i.value.trim()).filter(Boolean);
  return box;
}

export function openContactForm(customerId, contact, done) {
  const c = contact || {};
  const inputs = {
    name: h('input', { type: 'text', maxlength: '100', value: c.name || '', autocomplete: 'off' }),
    title: h('input', { type: 'text', maxlength: '100', value: c.title || '', autocomplete: 'off' }),
    email: h('input', { type: 'email', maxlength: '200', value: c.email || '', autocomplete: 'off' }),
    wechat: h('input', { type: 'text', maxlength: '64', value: c.wechat || '', autocomplete: 'off' }),
    birthday: h('input', { type: 'date', value: c.birthday || '', max: new Date().toISOString().slice(0, 10), min: '1900-01-01' }),
    notes: h('textarea', { rows: '3', maxlength: '2000' }),
    is_primary: h('input', { type: 'checkbox', checked: !!c.is_primary, disabled: !!c.is_primary }),
  };
  inputs.notes.value = c.notes || '';
  const phones = phoneList(c.phones);
  const primaryField = h('div', { class: 'field field-wide', 'data-field': 'is_primary' },
    h('label', { class: 'check' }, inputs.is_primary, h('span', { class: 'check-text' }, t('contact.make_primary'),
      h('small', null, c.is_primary ? t('contact.is_primary_hint') : t('contact.primary_hint')))),
    h('div', { class: 'field-error', 'data-error-for': 'is_primary', role: 'alert' }));
  inputs.is_primary.setAttribute('data-testid', 'field-is_primary');

  formModal({
    title: contact ? t('contact.edit') : t('contact.add'),
    testid: 'contact-form',
    wide: true,
    fields: [
      field('name', t('contact.name'), inputs.name, { required: true }),
      field('title', t('contact.title_field'), inputs.title),
      field('phones', t('contact.phones'), phones, { hint: t('contact.phones_hint') }),
      field('email', t('contact.email'), inputs.email),
      field('wechat', t('contact.wechat'), inputs.wechat),
      field('birthday', t('contact.birthday'), inputs.birthday),
      field('notes', t('contact.notes'), inputs.notes, { wide: true }),
      primaryField,
    ],
    submit: async (form) => {
      const v = {
        name: inputs.name.value.trim(),
        title: inputs.title.value.trim(),
        phones: phones.value(),
        email: inputs.email.value.trim(),
        wechat: inputs.wechat.value.trim(),
        birthday: inputs.birthday.value || null,
        notes: inputs.notes.value.trim(),
      };
      if (!v.name) { showFieldErrors(form, { name: t('contact.name_required') }); return false; }
      let body;
      if (contact) {
        body = {};
        for (const [k, val] of Object.entries(v)) {
          const old = c[k];
          if (k === 'phones' ? JSON.stringify(val) !== JSON.stringify(old || []) : (val || '') !== (old || '')) body[k] = val;
        }
        if (inputs.is_primary.checked && !c.is_primary) body.is_primary = true;
        if (Object.keys(body).length === 0) { toast(t('form.no_changes')); return true; }
        body.version = c.version;
      } else {
        body = { customer_id: customerId, name: v.name };
        for (const [k, val] of Object.entries(v)) if (k !== 'name' && !(val === '' || val === null || (Array.isArray(val) && !val.length))) body[k] = val;
        if (inputs.is_primary.checked) body.is_primary = true;
      }
      try {
        const saved = contact ? await api('PATCH', `/contacts/${c.id}`, { body }) : await api('POST', '/contacts', { body });
        toast(contact ? t('form.saved') : t('contact.added', { name: saved.name }), 'success');
        done(saved);
        return true;
      } catch (err) {
        if (err.status === 409) { toast(t('common.stale'), 'error'); done(null); return true; }
        formError(form, err);
        return false;
      }
    },
  });
}

export function contactRow(c, { onChanged }) {
  const actions = [];
  if (can('contact.edit') && !c.is_primary) {
    actions.push(h('button', {
      type: 'button', class: 'btn btn-sm', 'data-testid': 'contact-set-primary',
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          await api('PATCH', `/contacts/${c.id}`, { body: { is_primary: true, version: c.version } });
          toast(t('contact.primary_set', { name: c.name }), 'success');
          onChanged();
        } catch (err) { showError(err); onChanged(); }
      },
    }, t('contact.set_primary')));
  }
  if (can('contact.edit')) actions.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'contact-edit', onclick: () => openContactForm(c.customer_id, c, onChanged) }, t('common.edit')));
  if (can('contact.delete')) {
    actions.push(h('button', {
      type: 'button', class: 'btn btn-sm btn-danger-outline', 'data-testid': 'contact-delete',
      onclick: async () => {
        const ok = await confirmDialog({ title: t('contact.delete_title'), message: t('contact.delete_confirm', { name: c.name }), okText: t('common.delete'), danger: true });
        if (!ok) return;
        try {
          await api('DELETE', `/contacts/${c.id}`);
          toast(t('contact.deleted', { name: c.name }), 'success');
          onChanged();
        } catch (err) { showError(err); }
      },
    }, t('common.delete')));
  }
  return h('div', { class: ['row', 'contact-row', c.is_primary && 'is-primary'], 'data-testid': 'contact-row', 'data-id': String(c.id) },
    h('span', { class: 'avatar avatar-soft', 'aria-hidden': 'true' }, (c.name || '?').slice(0, 1)),
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('span', { class: 'row-name', 'data-testid': 'contact-name' }, c.name),
        c.is_primary ? chip(t('contact.primary'), 'chip-primary') : null,
        c.title ? h('span', { class: 'muted' }, c.title) : null),
      (c.phones || []).length || c.email || c.wechat ? h('div', { class: 'row-sub' },
        (c.phones || []).map((p) => h('a', { href: `tel:${p}`, class: 'mono', 'data-testid': 'contact-phone' }, p)),
        c.email ? h('a', { href: `mailto:${c.email}` }, c.email) : null,
        c.wechat ? h('span', null, t('contact.wechat_short', { id: c.wechat })) : null) : null,
      c.birthday || c.notes ? h('div', { class: 'row-sub' },
        c.birthday ? h('span', null, t('contact.birthday_short', { date: c.birthday })) : null,
        c.notes ? h('span', { class: 'pre' }, c.notes) : null) : null),
    actions.length ? h('div', { class: 'row-actions' }, actions) : null);
}

export function contactsPanel(box, { ctx, customer }) {
  const total = h('span', { class: 'total', 'data-testid': 'contact-total' });
  const listBox = h('div', { class: 'list-box' });
  const reload = () => list.reset();
  box.append(
    h('div', { class: 'panel-head' }, total,
      h('span', { class: 'panel-actions' },
      can('contact.export') ? h('button', {
        type: 'button', class: 'btn btn-sm', 'data-testid': 'contact-export', title: t('export.action'),
        onclick: (e) => exportFile(e.currentTarget, '/contacts/export', { customer_id: customer.id }),
      }, icon('download'), h('span', null, t('export.action'))) : null,
      can('contact.create') ? h('button', {
        type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'contact-add',
        onclick: () => openContactForm(customer.id, null, reload),
      }, icon('plus'), h('span', null, t('contact.add'))) : null)),
    listBox);
  const list = endlessList({
    ctx, container: listBox, pageSize: 50,
    emptyText: t('contact.empty'),
    fetchPage: (page, pageSize) => api('GET', '/contacts', { query: { customer_id: customer.id, page, page_size: pageSize } }),
    renderItem: (c) => contactRow(c, { onChanged: reload }),
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
