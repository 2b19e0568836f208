// 我的提醒: the reminders the person receives, in three tabs (今天 / 逾期 / 即将), with
// 完成, 延后 (10 minutes, an hour, tomorrow 09:00) and 取消; 新建提醒 (a customer picker,
// time, content, repeat, and for managers the people to remind). openReminderForm is
// also the 提醒 action of the customer and opportunity pages.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { field, formModal, formError, showFieldErrors, toast, showError, chip, select, fmtTime, fromLocalInput, toLocalInput, actionSheet, confirmDialog, checkGroup, emptyState, spinner } from '../ui.js';
import { customerPicker } from '../pickers.js';

const TABS = ['today', 'overdue', 'upcoming'];
const REPEATS = ['none', 'daily', 'weekly', 'monthly'];

// The next whole hour, as a datetime-local value: the form's default time.
function nextHourInput() {
  const d = new Date(Date.now() + 3600 * 1000);
  d.setMinutes(0, 0, 0);
  return toLocalInput(d.toISOString());
}

// openReminderForm: customer {id, name} (fixed) or null (picked in the form);
// opportunity {id, title} or null; done(saved) after a save.
export async function openReminderForm({ customer, opportunity, done }) {
  let team = null;
  if (can('reminder.assign')) {
    try {
      const r = await api('GET', '/reminders/recipients');
      team = (r && r.items) || [];
    } catch (err) { showError(err); return; }
  }
  const picker = customer ? null : customerPicker({});
  const inputs = {
    remind_at: h('input', { type: 'datetime-local', value: nextHourInput() }),
    content: h('textarea', { rows: '3', maxlength: '500', placeholder: t('reminder.content_placeholder') }),
    repeat: select(REPEATS.map((r) => ({ value: r, label: t(`reminder.repeat.${r}`) })), 'none'),
  };
  const me = state.me ? state.me.id : 0;
  const recipients = team ? checkGroup('recipient_ids', team.map((u) => ({ id: u.id, label: u.name, sub: u.id === me ? t('reminder.me') : '' })), [me]) : null;
  const subject = customer ? (opportunity ? `${customer.name} · ${opportunity.title}` : customer.name) : '';
  formModal({
    title: t('reminder.add'),
    testid: 'reminder-form',
    okText: t('common.save'),
    intro: subject ? h('p', { class: 'muted form-intro' }, t('reminder.for', { name: subject })) : null,
    fields: [
      picker ? field('customer_id', t('reminder.customer'), picker.el, { required: true }) : null,
      field('remind_at', t('reminder.remind_at'), inputs.remind_at, { required: true, hint: t('customer.time_zone_hint') }),
      field('content', t('reminder.content'), inputs.content, { required: true, wide: true }),
      field('repeat', t('reminder.repeat_label'), inputs.repeat),
      recipients ? field('recipient_ids', t('reminder.recipients'), recipients, { wide: true, hint: t('reminder.recipients_hint') }) : null,
    ],
    submit: async (form) => {
      const body = {
        customer_id: customer ? customer.id : picker.value(),
        remind_at: fromLocalInput(inputs.remind_at.value),
        content: inputs.content.value.trim(),
        repeat: inputs.repeat.value,
      };
      if (opportunity) body.opportunity_id = opportunity.id;
      if (recipients) body.recipient_ids = recipients.value();
      const missing = {};
      if (!body.customer_id) missing.customer_id = t('reminder.customer_required');
      if (!body.remind_at) missing.remind_at = t('reminder.time_required');
      if (!body.content) missing.content = t('reminder.content_required');
      if (recipients && !body.recipient_ids.length) missing.recipient_ids = t('reminder.recipients_required');
      if (Object.keys(missing).length) { showFieldErrors(form, missing); return false; }
      try {
        const saved = await api('POST', '/reminders', { body });
        toast(t('reminder.added'), 'success');
        if (done) done(saved);
        return true;
      } catch (err) { formError(form, err); return false; }
    },
  });
}

// Tomorrow 09:00 in the company zone, as RFC 3339.
function tomorrowNine() {
  const d = new Date(Date.now() + 24 * 3600 * 1000);
  const day = d.toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' });
  return new Date(`${day}T09:00:00+08:00`).toISOString();
}

async function snooze(r, onChanged) {
  const choice = await actionSheet({
    title: t('reminder.snooze'),
    items: [
      { value: { minutes: 10 }, label: t('reminder.snooze_10m'), testid: 'snooze-10m' },
      { value: { minutes: 60 }, label: t('reminder.snooze_1h'), testid: 'snooze-1h' },
      { value: { until: tomorrowNine() }, label: t('reminder.snooze_tomorrow'), testid: 'snooze-tomorrow' },
    ],
  });
  if (!choice) return;
  try {
    await api('POST', `/reminders/${r.id}/snooze`, { body: choice });
    toast(t('reminder.snoozed'), 'success');
    onChanged();
  } catch (err) { showError(err); }
}

export function reminderRow(r, onChanged, { showCustomer = true } = {}) {
  const act = (path, msg) => async () => {
    try {
      await api('POST', `/reminders/${r.id}/${path}`);
      toast(msg, 'success');
      onChanged();
    } catch (err) { showError(err); }
  };
  const overdue = r.status === 'pending' && new Date(r.remind_at) < new Date();
  const actions = r.status !== 'pending' ? [] : [
    can('reminder.edit') ? h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-testid': 'reminder-done', onclick: act('done', t('reminder.done_ok')) }, t('reminder.done')) : null,
    can('reminder.edit') ? h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'reminder-snooze', onclick: () => snooze(r, onChanged) }, t('reminder.snooze')) : null,
    can('reminder.delete') ? h('button', {
      type: 'button', class: 'btn btn-sm btn-danger-outline', 'data-testid': 'reminder-cancel',
      onclick: async () => {
        if (await confirmDialog({ title: t('reminder.cancel_title'), message: t('reminder.cancel_confirm'), okText: t('reminder.cancel'), danger: true })) act('cancel', t('reminder.cancelled'))();
      },
    }, t('reminder.cancel')) : null,
  ].filter(Boolean);
  const target = r.opportunity_id ? `#/opportunities/${r.opportunity_id}` : `#/customers/${r.customer_id}`;
  return h('div', { class: ['row', 'reminder-row', overdue && 'is-overdue'], 'data-testid': 'reminder-row', 'data-id': String(r.id), 'data-status': r.status },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        h('time', { class: 'reminder-time', datetime: r.remind_at }, fmtTime(r.remind_at)),
        overdue ? chip(t('reminder.overdue_chip'), 'chip-overdue') : null,
        r.repeat !== 'none' ? chip(t(`reminder.repeat.${r.repeat}`), 'chip-repeat') : null,
        r.source === 'followup' ? chip(t('reminder.from_followup'), 'chip-source') : null,
        r.status !== 'pending' ? chip(t(`reminder.status.${r.status}`), `chip-status-${r.status}`) : null),
      h('div', { class: 'reminder-content pre', 'data-testid': 'reminder-content' }, r.content),
      h('div', { class: 'row-sub' },
        showCustomer ? h('a', { href: target, 'data-testid': 'reminder-customer' }, r.opportunity_name ? `${r.customer_name} · ${r.opportunity_name}` : r.customer_name) : null,
        r.recipients && r.recipients.length > 1 ? h('span', { class: 'muted' }, ` · ${r.recipients.map((p) => p.name).join('、')}`) : null)),
    actions.length ? h('div', { class: 'row-actions' }, actions) : null);
}

export async function remindersPage(ctx) {
  ctx.setTitle(t('nav.reminders'));
  let when = TABS.includes(ctx.query.get('when')) ? ctx.query.get('when') : 'today';
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const listBox = h('div', { class: 'list-box', 'data-testid': 'reminder-list' });
  async function load() {
    replace(tabs, TABS.map((w) => h('button', {
      type: 'button', role: 'tab', class: ['tab', w === when && 'active'], 'aria-selected': w === when ? 'true' : 'false',
      'data-testid': `reminder-tab-${w}`, onclick: () => { when = w; load(); },
    }, t(`reminder.when.${w}`))));
    replace(listBox, spinner());
    try {
      const res = await api('GET', '/reminders', { query: { when } });
      if (!ctx.alive()) return;
      const items = (res && res.items) || [];
      replace(listBox, items.length ? h('div', { class: 'list' }, items.map((r) => reminderRow(r, load))) : emptyState(t(`reminder.empty.${when}`)));
      listBox.setAttribute('data-count', String(items.length));
    } catch (err) { showError(err); }
  }
  replace(ctx.main,
    h('div', { class: 'page-head' },
      tabs,
      can('reminder.create') ? h('button', {
        type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'reminder-add',
        onclick: () => openReminderForm({ done: load }),
      }, icon('plus'), h('span', null, t('reminder.add'))) : null),
    listBox);
  await load();
}
