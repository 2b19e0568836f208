// 动态: a customer's timeline (GET /customers/{id}/timeline) as readable sentences:
// "王芳 添加了跟进记录：电话 — 电话沟通需求", field changes as before → after.
import { h } from '../dom.js';
import { t, has } from '../i18n.js';
import { fmtTime, optionLabel, tn } from '../ui.js';
import { fmtMoney } from '../format.js';
import { label as listLabel } from '../catalog.js';

const OPTION_FIELDS = { level: 'levels', status: 'statuses', source: 'sources', industry: 'industries' };
// Never shown as a change: ids that have a name beside them, bookkeeping.
const HIDDEN = new Set(['owner_id', 'department_id', 'customer_id', 'version', 'import_job', 'job', 'created_by', 'updated_at']);
const LINKS = { opportunity: (id) => `#/opportunities/${id}`, sale: (id) => `#/sales/${id}` };

function isEmpty(v) {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

export function fieldLabel(entity, name) {
  for (const k of [`${entity}.${name}`, `field.${name}`]) if (has(k)) return t(k);
  return name;
}

// One value as people read it; lookups: {methods, lostReasons}.
export function fmtValue(entity, name, v, lookups = {}) {
  if (isEmpty(v)) return t('common.empty_value');
  if (/_fen$/.test(name) && (typeof v === 'number' || /^\d+$/.test(String(v)))) return fmtMoney(v);
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  if (name === 'method') return listLabel(lookups.methods, v);
  if (name === 'lost_reason') return listLabel(lookups.lostReasons, v);
  if (name === 'probability') return `${v}%`;
  if (name === 'pool_cause') return has(`pool.cause.${v}`) ? t(`pool.cause.${v}`) : String(v);
  if (entity === 'opportunity' && name === 'status') return has(`opp.status.${v}`) ? t(`opp.status.${v}`) : String(v);
  if (OPTION_FIELDS[name] && entity === 'customer') return optionLabel(OPTION_FIELDS[name], v);
  if (name === 'moved' && typeof v === 'object') {
    return Object.entries(v).map(([k, n]) => `${has(`merge.table.${k}`) ? t(`merge.table.${k}`) : k} ${n}`).join('，');
  }
  if (name === 'filled' && Array.isArray(v)) return v.map((f) => fieldLabel('customer', f)).join('、');
  if (Array.isArray(v)) return v.map((x) => (x && typeof x === 'object' ? (x.name ?? JSON.stringify(x)) : String(x))).join('、');
  if (typeof v === 'object') return v.name ?? JSON.stringify(v);
  if (/_at$/.test(name) && typeof v === 'string') return fmtTime(v);
  return String(v);
}

function changeList(entity, changes, lookups, skip = []) {
  const rows = Object.entries(changes || {}).filter(([k]) => !HIDDEN.has(k) && !skip.includes(k));
  if (!rows.length) return null;
  return h('ul', { class: 'changes' }, rows.map(([k, c]) => {
    const o = c && c.old, n = c && c.new;
    return h('li', null,
      h('span', { class: 'change-field' }, fieldLabel(entity, k)),
      isEmpty(o) && !isEmpty(n) ? null : [
        h('span', { class: ['change-old', isEmpty(o) && 'is-empty'] }, fmtValue(entity, k, o, lookups)),
        h('span', { class: 'change-arrow', 'aria-hidden': 'true' }, '→')],
      h('span', { class: ['change-new', isEmpty(n) && 'is-empty'] }, fmtValue(entity, k, n, lookups)));
  }));
}

// The details of a new record (a follow-up's result, next step …) as label: value lines.
function detailList(entity, changes, keys, lookups) {
  const rows = keys.filter((k) => changes[k] && !isEmpty(changes[k].new));
  if (!rows.length) return null;
  return h('ul', { class: 'changes changes-plain' }, rows.map((k) => h('li', null,
    h('span', { class: 'change-field' }, fieldLabel(entity, k)),
    h('span', { class: ['change-new', k === 'content' && 'pre'] }, fmtValue(entity, k, changes[k].new, lookups)))));
}

function newOf(changes, k) { return changes[k] ? changes[k].new : undefined; }
function oldOf(changes, k) { return changes[k] ? changes[k].old : undefined; }

// One timeline entry: who, what (a sentence), when; then the details.
export function timelineEntry(e, lookups = {}) {
  const ch = e.changes || {};
  const actor = h('strong', { class: 'tl-actor' }, e.actor_name || t('audit.system'));
  const canLink = LINKS[e.entity] && e.entity_id && e.action !== 'delete';
  const nameText = e.entity_name || (e.entity_id ? `#${e.entity_id}` : '');
  const name = nameText ? (canLink ? h('a', { href: LINKS[e.entity](e.entity_id), class: 'tl-name' }, nameText) : h('span', { class: 'tl-name' }, nameText)) : '';
  let sentence = null;
  let details = null;
  const key = `tl.${e.entity}.${e.action}`;

  if (e.entity === 'followup' && e.action === 'create') {
    const method = listLabel(lookups.methods, newOf(ch, 'method')) || '';
    const content = String(newOf(ch, 'content') ?? e.entity_name ?? '');
    sentence = tn('tl.followup.create', { actor, method, content: h('span', { class: 'tl-content' }, content.length > 80 ? `${content.slice(0, 80)}…` : content) });
    details = detailList('followup', ch, ['followed_at', 'result', 'next_step', 'next_follow_at'], lookups);
  } else if (e.entity === 'opportunity' && e.action === 'update' && ch.stage && ch.stage.old && ch.stage.new) {
    sentence = tn('tl.opportunity.stage', { actor, name, from: h('span', { class: 'tl-stage' }, ch.stage.old), to: h('span', { class: 'tl-stage' }, ch.stage.new) });
    details = changeList('opportunity', ch, lookups, ['stage', 'status', 'probability']);
  } else if (e.entity === 'opportunity' && e.action === 'create') {
    sentence = tn(key, { actor, name });
    details = detailList('opportunity', ch, ['amount_fen', 'stage', 'expected_close_date'], lookups);
  } else if (e.entity === 'sale' && (e.action === 'create' || e.action === 'delete' || e.action === 'restore')) {
    const amount = fmtMoney(newOf(ch, 'amount_fen') ?? oldOf(ch, 'amount_fen'));
    const link = canLink ? h('a', { href: LINKS.sale(e.entity_id), class: 'tl-name' }, amount || nameText) : h('span', { class: 'tl-name' }, amount || nameText);
    sentence = tn(key, { actor, name: link });
    if (e.action === 'create') details = detailList('sale', ch, ['sale_date', 'lines'], lookups);
  } else if (e.entity === 'customer' && (e.action === 'assign' || e.action === 'transfer')) {
    sentence = tn(key, { actor, to: h('strong', null, newOf(ch, 'owner_name') || '') });
    if (e.action === 'transfer' && oldOf(ch, 'owner_name')) details = changeList('customer', { owner_name: ch.owner_name }, lookups);
  } else if (e.entity === 'customer' && e.action === 'release') {
    sentence = tn(key, { actor });
    details = detailList('customer', ch, ['pool_reason'], lookups);
  } else if (e.entity === 'customer' && e.action === 'reclaim') {
    sentence = tn(key, { cause: fmtValue('customer', 'pool_cause', newOf(ch, 'pool_cause')) });
  } else if (e.entity === 'customer' && e.action === 'merge') {
    if (ch.merged_into) {
      sentence = tn('tl.customer.merged_into', { actor, name: fmtValue('customer', 'merged_into', newOf(ch, 'merged_into')) });
    } else {
      sentence = tn('tl.customer.merge', { actor, name: h('strong', null, fmtValue('customer', 'merged_from', newOf(ch, 'merged_from'))) });
      details = changeList('customer', ch, lookups, ['merged_from']);
    }
  } else if (e.entity === 'customer' && e.action === 'create') {
    sentence = tn(ch.import_job ? 'tl.customer.import' : key, { actor });
  } else if (has(key)) {
    sentence = tn(key, { actor, name });
    if (e.action === 'update') details = changeList(e.entity, ch, lookups);
  } else {
    sentence = tn('tl.generic', {
      actor,
      action: has(`audit.action.${e.action}`) ? t(`audit.action.${e.action}`) : e.action,
      entity: has(`audit.entity.${e.entity}`) ? t(`audit.entity.${e.entity}`) : e.entity,
      name,
    });
    if (e.action === 'update') details = changeList(e.entity, ch, lookups);
  }
  return h('div', { class: ['tl-entry', `tl-${e.entity}`, `tl-act-${e.action}`], 'data-testid': 'timeline-entry', 'data-id': String(e.id), 'data-entity': e.entity, 'data-action': e.action },
    h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
    h('div', { class: 'tl-body' },
      h('div', { class: 'tl-text' }, sentence),
      details,
      h('time', { class: 'tl-time', datetime: e.at }, fmtTime(e.at))));
}
