// 跟进记录 on the customer page: the customer's follow-ups, newest first, and the
// 添加跟进记录 form (time, method, content, result, next step, next follow-up time).
import { h, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { endlessList, field, formModal, formError, showFieldErrors, confirmDialog, toast, showError, chip, select, fmtTime, toLocalInput, fromLocalInput, nowLocalInput } from '../ui.js';
import { followupMethods, label } from '../catalog.js';
import { exportFile } from './export.js';

export async function openFollowupForm(customer, followup, done) {
  let methods;
  let opps = [];
  try {
    methods = await followupMethods();
    if (can('opportunity.view')) {
      const r = await api('GET', '/opportunities', { query: { customer_id: customer.id, page_size: 100 } });
      opps = (r && r.items) || [];
    }
  } catch (err) { showError(err); return; }
  const f = followup || {};
  const inputs = {
    followed_at: h('input', { type: 'datetime-local', value: f.followed_at ? toLocalInput(f.followed_at) : nowLocalInput() }),
    method: select(methods, f.method || 'phone'),
    content: h('textarea', { rows: '4', maxlength: '2000', placeholder: t('followup.content_placeholder') }),
    result: h('input', { type: 'text', maxlength: '500', value: f.result || '', autocomplete: 'off' }),
    next_step: h('input', { type: 'text', maxlength: '500', value: f.next_step || '', autocomplete: 'off' }),
    next_follow_at: h('input', { type: 'datetime-local', value: toLocalInput(f.next_follow_at) }),
  };
  inputs.content.value = f.content || '';
  if (opps.length) {
    inputs.opportunity_id = select([{ value: '', label: t('followup.no_opportunity') },
      ...opps.map((o) => ({ value: String(o.id), label: `${o.title}（${o.stage_name}）` }))], f.opportunity_id ? String(f.opportunity_id) : '');
  }
  formModal({
    title: followup ? t('followup.edit') : t('followup.add'),
    testid: 'followup-form',
    wide: true,
    okText: t('common.save'),
    intro: h('p', { class: 'muted form-intro' }, t('followup.for_customer', { name: customer.name })),
    fields: [
      field('followed_at', t('followup.followed_at'), inputs.followed_at, { required: true, hint: t('customer.time_zone_hint') }),
      field('method', t('followup.method'), inputs.method, { required: true }),
      field('content', t('followup.content'), inputs.content, { required: true, wide: true }),
      field('result', t('followup.result'), inputs.result),
      field('next_step', t('followup.next_step'), inputs.next_step),
      field('next_follow_at', t('followup.next_follow_at'), inputs.next_follow_at, { hint: t('followup.next_follow_hint') }),
      inputs.opportunity_id ? field('opportunity_id', t('followup.opportunity'), inputs.opportunity_id) : null,
    ],
    submit: async (form) => {
      const v = {
        followed_at: fromLocalInput(inputs.followed_at.value),
        method: inputs.method.value,
        content: inputs.content.value.trim(),
        result: inputs.result.value.trim(),
        next_step: inputs.next_step.value.trim(),
        next_follow_at: fromLocalInput(inputs.next_follow_at.value),
      };
      if (inputs.opportunity_id) v.opportunity_id = inputs.opportunity_id.value ? Number(inputs.opportunity_id.value) : null;
      const missing = {};
      if (!v.followed_at) missing.followed_at = t('followup.followed_at_required');
      if (!v.content) missing.content = t('followup.content_required');
      if (v.next_follow_at && v.followed_at && v.next_follow_at <= v.followed_at) missing.next_follow_at = t('followup.next_after');
      if (Object.keys(missing).length) { showFieldErrors(form, missing); return false; }
      let body;
      if (followup) {
        body = {};
        for (const [k, val] of Object.entries(v)) {
          const old = f[k];
          if (/_at$/.test(k) ? toLocalInput(val) !== toLocalInput(old) : (val ?? '') !== (old ?? '')) body[k] = val;
        }
        if (!Object.keys(body).length) { toast(t('form.no_changes')); return true; }
        body.version = f.version;
      } else {
        body = { customer_id: customer.id };
        for (const [k, val] of Object.entries(v)) if (!(val === '' || val === null)) body[k] = val;
      }
      try {
        const saved = followup ? await api('PATCH', `/followups/${f.id}`, { body }) : await api('POST', '/followups', { body });
        toast(followup ? t('form.saved') : t('followup.added'), 'success');
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

export function followupRow(f, { methods, customer, onChanged, showCustomer }) {
  const actions = [];
  if (can('followup.edit') && customer) actions.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'followup-edit', onclick: () => openFollowupForm(customer, f, onChanged) }, t('common.edit')));
  if (can('followup.delete')) {
    actions.push(h('button', {
      type: 'button', class: 'btn btn-sm btn-danger-outline', 'data-testid': 'followup-delete',
      onclick: async () => {
        const ok = await confirmDialog({ title: t('followup.delete_title'), message: t('followup.delete_confirm'), okText: t('common.delete'), danger: true });
        if (!ok) return;
        try {
          await api('DELETE', `/followups/${f.id}`);
          toast(t('followup.deleted'), 'success');
          onChanged();
        } catch (err) { showError(err); }
      },
    }, t('common.delete')));
  }
  const extra = [
    f.result ? [t('followup.result'), f.result] : null,
    f.next_step ? [t('followup.next_step'), f.next_step] : null,
    f.next_follow_at ? [t('followup.next_follow_at'), fmtTime(f.next_follow_at)] : null,
  ].filter(Boolean);
  return h('div', { class: 'row followup-row', 'data-testid': 'followup-row', 'data-id': String(f.id) },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('time', { class: 'followup-time', datetime: f.followed_at }, fmtTime(f.followed_at)),
        chip(label(methods, f.method), `chip-method chip-method-${f.method}`),
        h('span', { class: 'muted' }, f.owner_name),
        showCustomer && f.customer_name ? h('a', { href: `#/customers/${f.customer_id}` }, f.customer_name) : null),
      h('div', { class: 'followup-content pre', 'data-testid': 'followup-content' }, f.content),
      extra.length ? h('dl', { class: 'mini-fields' }, extra.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])) : null),
    actions.length ? h('div', { class: 'row-actions' }, actions) : null);
}

export async function followupsPanel(box, { ctx, customer, onCustomerChanged }) {
  const methods = await followupMethods();
  if (!ctx.alive()) return;
  const total = h('span', { class: 'total', 'data-testid': 'followup-total' });
  const listBox = h('div', { class: 'list-box' });
  const changed = () => { list.reset(); onCustomerChanged(); };
  box.append(
    h('div', { class: 'panel-head' }, total,
      h('span', { class: 'panel-actions' },
      can('followup.export') ? h('button', {
        type: 'button', class: 'btn btn-sm', 'data-testid': 'followup-export', title: t('export.action'),
        onclick: (e) => exportFile(e.currentTarget, '/followups/export', { customer_id: customer.id }),
      }, icon('download'), h('span', null, t('export.action'))) : null,
      can('followup.create') ? h('button', {
        type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'followup-add',
        onclick: () => openFollowupForm(customer, null, changed),
      }, icon('plus'), h('span', null, t('followup.add'))) : null)),
    listBox);
  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('followup.empty'),
    fetchPage: (page, pageSize) => api('GET', '/followups', { query: { customer_id: customer.id, page, page_size: pageSize } }),
    renderItem: (f) => followupRow(f, { methods, customer, onChanged: changed }),
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
