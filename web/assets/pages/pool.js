// 公海: customers without an owner. Search and filters like the customer list; 领取 (claim,
// with the 409 reasons: cap reached, cooldown until a date, taken first); 分配 for managers.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { debounce, endlessList, fmtTime, optionLabel, chip, select, toast, showError, openModal, field, formModal, formError, showFieldErrors } from '../ui.js';
import { levelChip, statusChip } from './customers.js';
import { people } from '../catalog.js';

const SORTS = [
  ['-updated_at', 'pool.sort_recent'],
  ['name', 'sort.name_asc'],
  ['-created_at', 'sort.created_desc'],
  ['-last_follow_at', 'sort.last_follow_desc'],
];

function causeChip(x) {
  return x.pool_cause ? chip(t(`pool.cause.${x.pool_cause}`), `chip-cause chip-cause-${x.pool_cause}`) : null;
}

function poolDetail(x) {
  const rows = [
    [t('customer.phone'), x.phone], [t('customer.company'), x.company], [t('customer.address'), x.address],
    [t('customer.industry'), optionLabel('industries', x.industry)], [t('customer.source'), optionLabel('sources', x.source)],
    [t('customer.level'), optionLabel('levels', x.level)], [t('customer.status'), optionLabel('statuses', x.status)],
    [t('customer.tags'), (x.tags || []).join('、')], [t('customer.last_follow_at'), fmtTime(x.last_follow_at)],
    [t('pool.entered_at'), fmtTime(x.pool_entered_at)], [t('pool.cause_label'), x.pool_cause ? t(`pool.cause.${x.pool_cause}`) : ''],
    [t('pool.reason'), x.pool_reason], [t('pool.former_owner'), x.former_owner_name], [t('customer.note'), x.note],
  ];
  return h('dl', { class: 'fields fields-compact', 'data-testid': 'pool-detail' },
    rows.map(([k, v]) => [h('dt', null, k), h('dd', { class: v ? 'pre' : 'muted' }, v || t('common.none'))]));
}

export async function poolPage(ctx) {
  ctx.setTitle(t('nav.pool'));
  const f = { q: ctx.query.get('q') || '', level: '', status: '', source: '', industry: '', sort: '-updated_at' };
  const total = h('span', { class: 'total', 'data-testid': 'pool-total' });
  const listBox = h('div', { class: 'list-box' });
  const search = h('input', {
    type: 'search', class: 'search-input', 'data-testid': 'pool-search', value: f.q,
    placeholder: t('pool.search_placeholder'), 'aria-label': t('pool.search_placeholder'), enterkeyhint: 'search',
  });
  const hint = h('span', { class: 'search-hint' });
  const onSearch = debounce(() => {
    const q = search.value.trim();
    hint.textContent = q.length === 1 ? t('customer.search_min') : '';
    const eff = q.length >= 2 ? q : '';
    if (eff !== f.q) { f.q = eff; list.reset(); }
  }, 300);
  search.addEventListener('input', onSearch);
  ctx.onCleanup(onSearch.cancel);

  const opt = (kind, allKey) => [{ value: '', label: t(allKey) }, ...((state.options && state.options[kind]) || [])];
  const controls = [
    ['level', opt('levels', 'filter.all_levels'), 'customer.level'],
    ['status', opt('statuses', 'filter.all_statuses'), 'customer.status'],
    ['source', opt('sources', 'filter.all_sources'), 'customer.source'],
    ['industry', opt('industries', 'filter.all_industries'), 'customer.industry'],
    ['sort', SORTS.map(([v, k]) => ({ value: v, label: t(k) })), 'sort.label'],
  ].map(([key, opts, lbl]) => {
    const s = select(opts, f[key], { 'data-testid': `pool-filter-${key}`, 'aria-label': t(lbl) });
    s.addEventListener('change', () => { f[key] = s.value; list.reset(); });
    return h('label', { class: 'filter' }, h('span', { class: 'filter-label' }, t(lbl)), s);
  });

  async function claim(x, el, btn) {
    btn.disabled = true;
    try {
      const c = await api('POST', `/pool/${x.id}/claim`);
      toast(t('pool.claimed', { name: c.name }), 'success');
      el.replaceChildren(
        h('div', { class: 'row-main' },
          h('div', { class: 'row-title' }, h('span', { class: 'row-name' }, c.name), chip(t('pool.claimed_chip'), 'chip-status-deal')),
          h('div', { class: 'row-sub' }, t('pool.claimed_text'))),
        h('div', { class: 'row-actions' }, h('a', { class: 'btn btn-sm btn-primary', href: `#/customers/${c.id}`, 'data-testid': 'pool-claimed-link' }, t('pool.open_customer'))));
      el.classList.add('is-claimed');
    } catch (err) {
      btn.disabled = false;
      if (err.status === 409 && x.claimable_from) toast(`${err.message}（${t('pool.claimable_from', { time: fmtTime(x.claimable_from) })}）`, 'error');
      else if (err.status === 404) { toast(t('pool.gone'), 'error'); list.remove(el); }
      else showError(err);
    }
  }

  async function assign(x, el) {
    let list2;
    try { list2 = await people(); } catch (err) { showError(err); return; }
    const sel = select([{ value: '', label: t('common.unset') }, ...(list2 || []).map((u) => ({ value: String(u.id), label: [u.name, (u.departments || []).map((d) => d.name).join('、')].filter(Boolean).join(' · ') }))], '');
    formModal({
      title: t('pool.assign_title'),
      okText: t('pool.assign'),
      testid: 'assign-form',
      intro: h('p', { class: 'muted form-intro' }, t('pool.assign_text', { name: x.name })),
      fields: [field('user_id', t('pool.assign_to'), sel, { required: true, wide: true })],
      submit: async (form) => {
        if (!sel.value) { showFieldErrors(form, { user_id: t('pool.person_required') }); return false; }
        try {
          const c = await api('POST', `/pool/${x.id}/assign`, { body: { user_id: Number(sel.value) } });
          toast(t('pool.assigned', { name: c.name, to: c.owner_name }), 'success');
          list.remove(el);
          return true;
        } catch (err) { formError(form, err); return false; }
      },
    });
  }

  async function showDetail(x) {
    let full = x;
    try { full = await api('GET', `/pool/${x.id}`); } catch (err) { if (err.status !== 404) { showError(err); return; } }
    const m = openModal({ title: full.name, wide: true, body: poolDetail(full), footer: [h('button', { type: 'button', class: 'btn', onclick: () => m.close() }, t('common.close'))] });
  }

  function row(x) {
    const buttons = [];
    const el = h('div', { class: 'row pool-row', 'data-testid': 'pool-row', 'data-id': String(x.id) });
    if (can('pool.create')) {
      const b = h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-testid': 'pool-claim' }, t('pool.claim'));
      b.addEventListener('click', (e) => { e.stopPropagation(); claim(x, el, b); });
      buttons.push(b);
    }
    if (can('pool.assign') && can('user.view')) {
      buttons.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'pool-assign', onclick: (e) => { e.stopPropagation(); assign(x, el); } }, t('pool.assign')));
    }
    el.append(
      h('div', { class: 'row-main', role: 'button', tabindex: '0', onclick: () => showDetail(x), onkeydown: (e) => { if (e.key === 'Enter') showDetail(x); } },
        h('div', { class: 'row-title' },
          h('span', { class: 'row-name', 'data-testid': 'pool-name' }, x.name), levelChip(x.level), statusChip(x.status)),
        h('div', { class: 'row-sub' },
          x.company ? h('span', null, x.company) : null,
          x.phone ? h('span', { class: 'mono' }, x.phone) : null),
        h('div', { class: 'row-sub' },
          causeChip(x),
          x.pool_reason ? h('span', { class: 'muted ellipsis' }, x.pool_reason) : null,
          x.former_owner_name ? h('span', null, t('pool.former_owner_short', { name: x.former_owner_name })) : null,
          x.pool_entered_at ? h('span', { class: 'muted' }, t('pool.entered_short', { time: fmtTime(x.pool_entered_at) })) : null),
        x.claimable_from ? h('div', { class: 'row-sub pool-cooldown', 'data-testid': 'pool-cooldown' }, t('pool.claimable_from', { time: fmtTime(x.claimable_from) })) : null),
      buttons.length ? h('div', { class: 'row-actions' }, buttons) : null);
    return el;
  }

  replace(ctx.main,
    h('p', { class: 'page-note' }, t('pool.note')),
    h('div', { class: 'toolbar' }, h('div', { class: 'search-wrap' }, icon('search', 'search-icon'), search),
      can('pool.manage') ? h('a', { class: 'btn', href: '#/pool/rules', 'data-testid': 'pool-rules-link', title: t('nav.pool_rules') }, icon('settings'), h('span', null, t('nav.pool_rules'))) : null),
    h('details', { class: 'filters', open: window.matchMedia('(min-width: 900px)').matches },
      h('summary', { 'data-testid': 'filter-toggle' }, icon('filter'), t('filter.title')),
      h('div', { class: 'filter-grid' }, controls)),
    h('div', { class: 'list-head' }, total, hint),
    listBox);

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('pool.empty'),
    fetchPage: (page, pageSize) => api('GET', '/pool', { query: { ...f, page, page_size: pageSize } }),
    renderItem: row,
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
