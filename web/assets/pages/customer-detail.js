// 客户详情: every field with its label; 编辑 and 删除 by permission.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { fmtTime, optionLabel, confirmDialog, toast, showError, chip } from '../ui.js';
import { levelChip, statusChip } from './customers.js';

function item(label, value, testid) {
  const empty = value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
  return [
    h('dt', null, label),
    h('dd', { class: empty ? 'muted' : null, 'data-testid': testid ? `detail-${testid}` : null }, empty ? t('common.none') : value),
  ];
}

export async function customerDetailPage(ctx) {
  const id = ctx.params[0];
  ctx.setBack('#/customers');
  ctx.setTitle(t('customer.detail'));
  const c = await api('GET', `/customers/${id}`);
  if (!ctx.alive()) return;
  ctx.setTitle(c.name);

  async function remove() {
    const ok = await confirmDialog({
      title: t('customer.delete_title'),
      message: t('customer.delete_confirm', { name: c.name }),
      okText: t('common.delete'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/customers/${c.id}`);
      toast(t('customer.deleted'), 'success');
      ctx.go('#/customers');
    } catch (err) { showError(err); }
  }

  const actions = h('div', { class: 'actions' },
    can('customer.edit') ? h('a', { class: 'btn btn-primary', href: `#/customers/${c.id}/edit`, 'data-testid': 'customer-edit' }, t('common.edit')) : null,
    can('customer.delete') ? h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'customer-delete', onclick: remove }, t('common.delete')) : null);

  replace(ctx.main,
    h('article', { class: 'card detail', 'data-testid': 'customer-detail', 'data-id': String(c.id) },
      h('header', { class: 'detail-head' },
        h('div', null,
          h('h2', { class: 'detail-name', 'data-testid': 'detail-name' }, c.name),
          h('div', { class: 'detail-chips' }, levelChip(c.level), statusChip(c.status))),
        actions),
      h('section', null,
        h('h3', { class: 'section-title' }, t('customer.section_basic')),
        h('dl', { class: 'fields' },
          item(t('customer.phone'), c.phone ? h('a', { href: `tel:${c.phone}`, class: 'mono' }, c.phone) : '', 'phone'),
          item(t('customer.company'), c.company, 'company'),
          item(t('customer.address'), c.address, 'address'),
          item(t('customer.industry'), optionLabel('industries', c.industry), 'industry'),
          item(t('customer.source'), optionLabel('sources', c.source), 'source'),
          item(t('customer.level'), optionLabel('levels', c.level), 'level'),
          item(t('customer.status'), optionLabel('statuses', c.status), 'status'),
          item(t('customer.tags'), (c.tags || []).length ? h('span', { class: 'chips' }, c.tags.map((x) => chip(x, 'chip-tag'))) : '', 'tags'),
          item(t('customer.next_follow_at'), fmtTime(c.next_follow_at), 'next_follow_at'),
          item(t('customer.last_follow_at'), fmtTime(c.last_follow_at), 'last_follow_at'),
          item(t('customer.note'), c.note ? h('span', { class: 'pre' }, c.note) : '', 'note'))),
      h('section', null,
        h('h3', { class: 'section-title' }, t('customer.section_system')),
        h('dl', { class: 'fields' },
          item(t('customer.owner'), c.owner_name, 'owner'),
          item(t('customer.department'), c.department_name, 'department'),
          item(t('customer.created_by'), c.created_by_name, 'created_by'),
          item(t('customer.created_at'), fmtTime(c.created_at), 'created_at'),
          item(t('customer.updated_at'), fmtTime(c.updated_at), 'updated_at')))));
}
