// 查重: is there already a customer with this phone, or this name and company?
// Lists the matches as the API allows (a match outside one's scope shows only its owner).
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { field, formError, clearFieldErrors, showFieldErrors, chip, emptyState, spinner, tn } from '../ui.js';

function matchRow(d) {
  const name = d.visible && d.name
    ? h('a', { href: d.in_pool ? `#/pool?q=${encodeURIComponent(d.name)}` : `#/customers/${d.id}`, class: 'row-name', 'data-testid': 'duplicate-open' }, d.name)
    : h('span', { class: 'row-name muted' }, t('dup.hidden_name'));
  return h('div', { class: 'row dup-row', 'data-testid': 'duplicate-row', 'data-id': d.id ? String(d.id) : null },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' }, name,
        chip(d.match === 'phone' ? t('dup.chip_phone') : t('dup.chip_name'), 'chip-outline'),
        d.in_pool ? chip(t('nav.pool'), 'chip-cause') : null),
      h('div', { class: 'row-sub' },
        d.in_pool ? h('span', null, t('dup.in_pool_short')) : h('span', null, t('customer.owner_short', { name: d.owner_name || t('common.unknown') })),
        !d.visible ? h('span', { class: 'muted' }, t('dup.no_access')) : null)));
}

export async function duplicatesPage(ctx) {
  ctx.setTitle(t('nav.duplicates'));
  const inputs = {
    phone: h('input', { type: 'tel', inputmode: 'tel', maxlength: '20', autocomplete: 'off', value: ctx.query.get('phone') || '' }),
    name: h('input', { type: 'text', maxlength: '100', autocomplete: 'off', value: ctx.query.get('name') || '' }),
    company: h('input', { type: 'text', maxlength: '100', autocomplete: 'off', value: ctx.query.get('company') || '' }),
  };
  const results = h('div', { class: 'dup-results', 'data-testid': 'duplicate-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'card form', novalidate: true, 'data-testid': 'duplicate-form' },
    h('p', { class: 'muted form-intro' }, t('dup.intro')),
    h('div', { class: 'form-grid form-grid-3' },
      field('phone', t('customer.phone'), inputs.phone),
      field('name', t('customer.name'), inputs.name),
      field('company', t('customer.company'), inputs.company)),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'form-actions form-actions-inline' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'duplicate-search' }, icon('search'), t('dup.search'))));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const q = { phone: inputs.phone.value.trim(), name: inputs.name.value.trim(), company: inputs.company.value.trim() };
    if (!q.phone && !(q.name && q.company)) {
      showFieldErrors(form, q.name ? { company: t('dup.need_company') } : { phone: t('dup.need_input') });
      return;
    }
    replace(results, spinner());
    try {
      const r = await api('GET', '/customers/duplicates', { query: q });
      if (!ctx.alive()) return;
      const items = (r && r.items) || [];
      replace(results, items.length
        ? [h('div', { class: 'list-head', 'data-testid': 'duplicate-count' }, t('dup.found', { n: items.length })), h('div', { class: 'list' }, items.map(matchRow))]
        : h('div', { class: 'card dup-none', 'data-testid': 'duplicate-none' }, h('strong', null, t('dup.none')), ' ',
          can('customer.create') ? tn('dup.none_add', { link: h('a', { href: '#/customers/new' }, t('customer.add')) }) : null));
    } catch (err) {
      replace(results);
      formError(form, err);
    }
  });

  replace(ctx.main, form, results);
  if (inputs.phone.value || (inputs.name.value && inputs.company.value)) form.requestSubmit();
  else replace(results, emptyState(t('dup.empty')));
}
