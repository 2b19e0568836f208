// 公海规则 (admins, pool.manage): the claim cap, the re-claim cooldown and the automatic
// reclaim rules (days without a follow-up per level, days without a deal, warning days).
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state } from '../state.js';
import { field, toast, formError, clearFieldErrors, showFieldErrors, confirmDialog, fmtTime } from '../ui.js';

function num(value, max) {
  return h('input', { type: 'number', min: '0', max: String(max), step: '1', inputmode: 'numeric', value: String(value ?? 0) });
}

export async function poolRulesPage(ctx) {
  ctx.setTitle(t('nav.pool_rules'));
  ctx.setBack('#/pool');
  const r = await api('GET', '/pool/rules');
  if (!ctx.alive()) return;

  const levels = (state.options && state.options.levels) || [];
  const levelKeys = [...new Set([...levels.map((l) => l.value), ...Object.keys(r.no_follow_days || {})])];
  const inputs = {
    max_owned: num(r.max_owned, 100000),
    claim_cooldown_days: num(r.claim_cooldown_days, 365),
    warn_days: num(r.warn_days, 30),
    no_follow_days_default: num(r.no_follow_days_default, 3650),
    no_deal_days: num(r.no_deal_days, 3650),
    reclaim_enabled: h('input', { type: 'checkbox', checked: !!r.reclaim_enabled, 'data-testid': 'field-reclaim_enabled', id: 'f-reclaim_enabled' }),
  };
  const perLevel = new Map(levelKeys.map((k) => [k, num((r.no_follow_days || {})[k] ?? 0, 3650)]));
  const levelBox = h('div', { class: 'level-days', id: 'f-no_follow_days-box' },
    [...perLevel].map(([k, input]) => {
      input.setAttribute('data-testid', `field-no_follow_days-${k}`);
      input.id = `f-no_follow_days-${k}`;
      const lbl = (levels.find((l) => l.value === k) || {}).label || k.toUpperCase();
      return h('label', { class: 'level-day' }, h('span', { class: 'filter-label' }, lbl), input, h('span', { class: 'unit' }, t('rules.days')));
    }));

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'form-save' }, t('common.save'));
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'pool-rules-form' },
    h('h3', { class: 'section-title section-title-first' }, t('rules.section_claim')),
    h('div', { class: 'form-grid' },
      field('max_owned', t('rules.max_owned'), inputs.max_owned, { hint: t('rules.max_owned_hint') }),
      field('claim_cooldown_days', t('rules.cooldown'), inputs.claim_cooldown_days, { hint: t('rules.cooldown_hint') })),
    h('h3', { class: 'section-title' }, t('rules.section_reclaim')),
    h('div', { class: 'form-grid' },
      h('div', { class: 'field field-wide', 'data-field': 'reclaim_enabled' },
        h('label', { class: 'check' }, inputs.reclaim_enabled, h('span', { class: 'check-text' }, t('rules.reclaim_enabled'), h('small', null, t('rules.reclaim_hint')))),
        h('div', { class: 'field-error', 'data-error-for': 'reclaim_enabled', role: 'alert' })),
      field('no_follow_days', t('rules.no_follow_days'), levelBox, { wide: true, hint: t('rules.no_follow_hint') }),
      field('no_follow_days_default', t('rules.no_follow_default'), inputs.no_follow_days_default, { hint: t('rules.zero_off') }),
      field('no_deal_days', t('rules.no_deal_days'), inputs.no_deal_days, { hint: t('rules.no_deal_hint') }),
      field('warn_days', t('rules.warn_days'), inputs.warn_days, { hint: t('rules.warn_hint') })),
    r.updated_at ? h('p', { class: 'muted form-intro' }, t('rules.updated', { time: fmtTime(r.updated_at) })) : null,
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'form-actions' },
      h('a', { class: 'btn', href: '#/pool', 'data-testid': 'form-cancel' }, t('common.cancel')), saveBtn));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const bad = {};
    const read = (k, input) => {
      const v = Number(input.value);
      if (input.value === '' || !Number.isInteger(v) || v < 0 || v > Number(input.max)) bad[k] = t('rules.whole_number', { max: input.max });
      return v;
    };
    const body = {
      max_owned: read('max_owned', inputs.max_owned),
      claim_cooldown_days: read('claim_cooldown_days', inputs.claim_cooldown_days),
      warn_days: read('warn_days', inputs.warn_days),
      no_follow_days: Object.fromEntries([...perLevel].map(([k, i]) => [k, read('no_follow_days', i)])),
      no_follow_days_default: read('no_follow_days_default', inputs.no_follow_days_default),
      no_deal_days: read('no_deal_days', inputs.no_deal_days),
      reclaim_enabled: inputs.reclaim_enabled.checked,
      version: r.version,
    };
    if (Object.keys(bad).length) { showFieldErrors(form, bad); return; }
    saveBtn.disabled = true;
    try {
      await api('PUT', '/pool/rules', { body });
      toast(t('form.saved'), 'success');
      ctx.rerender();
    } catch (err) {
      if (err.status === 409 && !err.fields) {
        const reload = await confirmDialog({ title: t('common.conflict_title'), message: t('common.conflict_text'), okText: t('customer.conflict_reload') });
        if (reload && ctx.alive()) ctx.rerender();
      } else formError(form, err);
    } finally { saveBtn.disabled = false; }
  });
  replace(ctx.main, h('p', { class: 'page-note' }, t('rules.note')), form);
}
