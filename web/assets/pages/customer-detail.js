// 客户详情: the customer's header (name, chips, owner, next follow-up, actions) and tabs:
// 概况 (every field), 联系人, 跟进记录, 销售机会, 销售数据, 动态 (timeline).
// Actions by permission: 编辑, 释放到公海, 转移, 合并, 删除.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { fmtTime, optionLabel, confirmDialog, toast, showError, chip, endlessList, field, formModal, formError, showFieldErrors, select } from '../ui.js';
import { levelChip, statusChip } from './customers.js';
import { contactsPanel } from './customer-contacts.js';
import { followupsPanel } from './customer-followups.js';
import { timelineEntry } from './timeline.js';
import { opportunityRow } from './opportunities.js';
import { saleRow, totalsBar } from './sales.js';
import { stages, followupMethods, people } from '../catalog.js';
import { customerPicker } from '../pickers.js';
import { openReminderForm } from './reminders.js';

function item(label, value, testid) {
  const empty = value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
  return [
    h('dt', null, label),
    h('dd', { class: empty ? 'muted' : null, 'data-testid': testid ? `detail-${testid}` : null }, empty ? t('common.none') : value),
  ];
}

const TABS = [
  { id: 'info', label: 'cust.tab.info' },
  { id: 'contacts', label: 'cust.tab.contacts', perm: 'contact.view' },
  { id: 'followups', label: 'cust.tab.followups', perm: 'followup.view' },
  { id: 'opportunities', label: 'cust.tab.opportunities', perm: 'opportunity.view' },
  { id: 'sales', label: 'cust.tab.sales', perm: 'sale.view' },
  { id: 'timeline', label: 'cust.tab.timeline' },
];

function infoPanel(box, c) {
  box.append(h('div', { class: 'card detail-fields' },
    h('section', null,
      h('h3', { class: 'section-title section-title-first' }, t('customer.section_basic')),
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

function opportunitiesPanel(box, { ctx, customer }) {
  const total = h('span', { class: 'total', 'data-testid': 'cust-opportunity-total' });
  const listBox = h('div', { class: 'list-box' });
  box.append(
    h('div', { class: 'panel-head' }, total,
      can('opportunity.create') ? h('a', { class: 'btn btn-primary btn-sm', href: `#/opportunities/new?customer_id=${customer.id}`, 'data-testid': 'cust-opportunity-add' }, icon('plus'), h('span', null, t('opp.add'))) : null),
    listBox);
  endlessList({
    ctx, container: listBox, emptyText: t('opp.empty_customer'),
    fetchPage: (page, pageSize) => api('GET', '/opportunities', { query: { customer_id: customer.id, page, page_size: pageSize } }),
    renderItem: (o) => opportunityRow(o, { hideCustomer: true }),
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  }).reset();
}

function salesPanel(box, { ctx, customer }) {
  const totals = totalsBar();
  const listBox = h('div', { class: 'list-box' });
  box.append(
    h('div', { class: 'panel-head' }, totals.el,
      can('sale.create') ? h('a', { class: 'btn btn-primary btn-sm', href: `#/sales/new?customer_id=${customer.id}`, 'data-testid': 'cust-sale-add' }, icon('plus'), h('span', null, t('sale.add'))) : null),
    listBox);
  endlessList({
    ctx, container: listBox, emptyText: t('sale.empty_customer'),
    fetchPage: async (page, pageSize) => {
      const r = await api('GET', '/sales', { query: { customer_id: customer.id, page, page_size: pageSize } });
      if (page === 1) totals.set(r.totals);
      return r;
    },
    renderItem: (s) => saleRow(s, { hideCustomer: true }),
  }).reset();
}

async function timelinePanel(box, { ctx, customer }) {
  const [methods, st] = await Promise.all([followupMethods().catch(() => []), stages().catch(() => ({}))]);
  if (!ctx.alive()) return;
  const lookups = { methods, lostReasons: (st && st.lost_reasons) || [] };
  const listBox = h('div', { class: 'list-box timeline' });
  box.append(listBox);
  endlessList({
    ctx, container: listBox, emptyText: t('timeline.empty'),
    fetchPage: (page, pageSize) => api('GET', `/customers/${customer.id}/timeline`, { query: { page, page_size: pageSize } }),
    renderItem: (e) => timelineEntry(e, lookups),
  }).reset();
}

// ---- actions ---------------------------------------------------------------

function releaseDialog(c, ctx) {
  const reason = h('textarea', { rows: '3', maxlength: '200', placeholder: t('pool.reason_placeholder') });
  formModal({
    title: t('pool.release_title'),
    okText: t('pool.release'),
    testid: 'release-form',
    intro: h('p', { class: 'muted form-intro' }, t('pool.release_text', { name: c.name })),
    fields: [field('reason', t('pool.reason'), reason, { required: true, wide: true })],
    submit: async (form) => {
      const r = reason.value.trim();
      if (!r) { showFieldErrors(form, { reason: t('pool.reason_required') }); return false; }
      try {
        await api('POST', `/customers/${c.id}/release`, { body: { reason: r } });
        toast(t('pool.released', { name: c.name }), 'success');
        ctx.go('#/customers');
        return true;
      } catch (err) { formError(form, err); return false; }
    },
  });
}

async function transferDialog(c, ctx) {
  let list;
  try { list = await people(); } catch (err) { showError(err); return; }
  const opts = (list || []).filter((u) => u.id !== c.owner_id).map((u) => ({ value: String(u.id), label: [u.name, (u.departments || []).map((d) => d.name).join('、')].filter(Boolean).join(' · ') }));
  const to = select([{ value: '', label: t('common.unset') }, ...opts], '');
  formModal({
    title: t('pool.transfer_title'),
    okText: t('pool.transfer'),
    testid: 'transfer-form',
    intro: h('p', { class: 'muted form-intro' }, t('pool.transfer_text', { name: c.name, owner: c.owner_name || t('common.unknown') })),
    fields: [field('to_user_id', t('pool.transfer_to'), to, { required: true, wide: true })],
    submit: async (form) => {
      if (!to.value) { showFieldErrors(form, { to_user_id: t('pool.person_required') }); return false; }
      try {
        await api('POST', `/customers/${c.id}/transfer`, { body: { to_user_id: Number(to.value) } });
        const name = (list.find((u) => u.id === Number(to.value)) || {}).name || '';
        toast(t('pool.transferred', { name: c.name, to: name }), 'success');
        ctx.rerender();
        return true;
      } catch (err) { formError(form, err); return false; }
    },
  });
}

function mergeDialog(c, ctx) {
  const picker = customerPicker({ exclude: c.id, testid: 'field-from_id', id: 'f-from_id', placeholder: t('merge.search_placeholder') });
  formModal({
    title: t('merge.title'),
    okText: t('merge.ok'),
    testid: 'merge-form',
    wide: true,
    intro: h('div', { class: 'notice' }, t('merge.text', { name: c.name })),
    fields: [field('from_id', t('merge.from'), picker.el, { required: true, wide: true, hint: t('merge.hint') })],
    submit: async (form) => {
      const from = picker.chosen();
      if (!from) { showFieldErrors(form, { from_id: t('merge.from_required') }); return false; }
      const ok = await confirmDialog({ title: t('merge.title'), message: t('merge.confirm', { from: from.name, into: c.name }), okText: t('merge.ok'), danger: true });
      if (!ok) return false;
      try {
        const res = await api('POST', `/customers/${c.id}/merge`, { body: { from_id: from.id } });
        const moved = Object.entries((res && res.moved) || {}).filter(([, n]) => n).map(([k, n]) => `${t(`merge.table.${k}`)} ${n}`).join('，');
        toast(moved ? t('merge.done_moved', { name: from.name, moved }) : t('merge.done', { name: from.name }), 'success');
        ctx.rerender();
        return true;
      } catch (err) { formError(form, err); return false; }
    },
  });
}

// ---- the page ----------------------------------------------------------------

export async function customerDetailPage(ctx) {
  const id = ctx.params[0];
  ctx.setBack('#/customers');
  ctx.setTitle(t('customer.detail'));
  let c = await api('GET', `/customers/${id}`);
  if (!ctx.alive()) return;
  ctx.setTitle(c.name);

  const tabs = TABS.filter((x) => !x.perm || can(x.perm));
  let tab = tabs.some((x) => x.id === ctx.query.get('tab')) ? ctx.query.get('tab') : 'info';
  let tabGen = 0;

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

  const head = h('article', { class: 'card detail', 'data-testid': 'customer-detail', 'data-id': String(c.id) });
  function drawHead() {
    const mine = state.me && c.owner_id === state.me.id;
    const actions = h('div', { class: 'actions' },
      can('customer.edit') ? h('a', { class: 'btn btn-primary', href: `#/customers/${c.id}/edit`, 'data-testid': 'customer-edit' }, t('common.edit')) : null,
      can('reminder.create') ? h('button', { type: 'button', class: 'btn', 'data-testid': 'customer-remind', onclick: () => openReminderForm({ customer: c }) }, t('reminder.action')) : null,
      (mine || can('customer.transfer')) ? h('button', { type: 'button', class: 'btn', 'data-testid': 'customer-release', onclick: () => releaseDialog(c, ctx) }, t('pool.release')) : null,
      can('customer.transfer') && can('user.view') ? h('button', { type: 'button', class: 'btn', 'data-testid': 'customer-transfer', onclick: () => transferDialog(c, ctx) }, t('pool.transfer')) : null,
      can('customer.manage') ? h('button', { type: 'button', class: 'btn', 'data-testid': 'customer-merge', onclick: () => mergeDialog(c, ctx) }, t('merge.action')) : null,
      can('customer.delete') ? h('button', { type: 'button', class: 'btn btn-danger-outline', 'data-testid': 'customer-delete', onclick: remove }, t('common.delete')) : null);
    replace(head,
      h('header', { class: 'detail-head' },
        h('div', { class: 'detail-title' },
          h('h2', { class: 'detail-name', 'data-testid': 'detail-name' }, c.name),
          h('div', { class: 'detail-chips' }, levelChip(c.level), statusChip(c.status),
            c.company ? h('span', { class: 'muted detail-company' }, c.company) : null)),
        actions),
      h('div', { class: 'detail-summary' },
        h('div', { class: 'summary-item' }, h('span', { class: 'summary-label' }, t('customer.owner')), h('span', { 'data-testid': 'summary-owner' }, c.owner_name || t('common.none'))),
        h('div', { class: 'summary-item' }, h('span', { class: 'summary-label' }, t('customer.next_follow_at')),
          h('span', { class: c.next_follow_at ? 'summary-follow' : 'muted', 'data-testid': 'summary-next_follow_at' }, c.next_follow_at ? fmtTime(c.next_follow_at) : t('common.none'))),
        h('div', { class: 'summary-item' }, h('span', { class: 'summary-label' }, t('customer.last_follow_at')),
          h('span', { class: c.last_follow_at ? null : 'muted', 'data-testid': 'summary-last_follow_at' }, c.last_follow_at ? fmtTime(c.last_follow_at) : t('common.none')))));
  }

  async function reloadCustomer() {
    try {
      const fresh = await api('GET', `/customers/${c.id}`);
      if (!ctx.alive()) return;
      c = fresh;
      drawHead();
      if (tab === 'info') showTab('info');
    } catch (err) { showError(err); }
  }

  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('cust.tabs') });
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', 'data-testid': 'tab-panel' });
  function drawTabs() {
    replace(tabBar, tabs.map((x) => h('button', {
      type: 'button', role: 'tab', class: ['tab', x.id === tab && 'active'], 'data-testid': `tab-${x.id}`,
      'aria-selected': x.id === tab ? 'true' : 'false',
      onclick: () => { if (x.id !== tab) showTab(x.id); },
    }, t(x.label))));
    const active = tabBar.querySelector('.tab.active');
    if (active) requestAnimationFrame(() => { tabBar.scrollLeft = active.offsetLeft - (tabBar.clientWidth - active.offsetWidth) / 2; });
  }
  function showTab(id) {
    tab = id;
    const my = ++tabGen;
    const tctx = { alive: () => ctx.alive() && my === tabGen, onCleanup: ctx.onCleanup };
    history.replaceState(null, '', `#/customers/${c.id}${id === 'info' ? '' : `?tab=${id}`}`);
    drawTabs();
    replace(panel);
    panel.setAttribute('data-tab', id);
    const args = { ctx: tctx, customer: c, onCustomerChanged: reloadCustomer };
    const run = {
      info: () => infoPanel(panel, c),
      contacts: () => contactsPanel(panel, args),
      followups: () => followupsPanel(panel, args),
      opportunities: () => opportunitiesPanel(panel, args),
      sales: () => salesPanel(panel, args),
      timeline: () => timelinePanel(panel, args),
    }[id];
    Promise.resolve().then(run).catch((err) => {
      if (!tctx.alive()) return;
      showError(err);
      replace(panel, h('div', { class: 'empty' }, err.message || String(err)));
    });
  }

  drawHead();
  replace(ctx.main, head, tabBar, panel);
  showTab(tab);
}

