// 回收站: deleted customers, who deleted them and when, and 恢复.
import { h, replace, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { debounce, endlessList, fmtTime, toast, showError } from '../ui.js';

export async function recyclePage(ctx) {
  ctx.setTitle(t('nav.recycle'));
  let q = '';
  const total = h('span', { class: 'total', 'data-testid': 'recycle-total' });
  const listBox = h('div', { class: 'list-box' });
  const search = h('input', {
    type: 'search', class: 'search-input', 'data-testid': 'recycle-search',
    placeholder: t('recycle.search_placeholder'), 'aria-label': t('recycle.search_placeholder'),
  });
  const onSearch = debounce(() => {
    const v = search.value.trim();
    const eff = v.length >= 2 ? v : '';
    if (eff !== q) { q = eff; list.reset(); }
  }, 300);
  search.addEventListener('input', onSearch);
  ctx.onCleanup(onSearch.cancel);

  function row(c) {
    const btn = h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': `restore-${c.id}` }, t('recycle.restore'));
    const el = h('div', { class: 'row recycle-row', 'data-testid': 'recycle-row', 'data-id': String(c.id) },
      h('div', { class: 'row-main' },
        h('div', { class: 'row-title' }, h('span', { class: 'row-name' }, c.name)),
        h('div', { class: 'row-sub' },
          c.company ? h('span', null, c.company) : null,
          c.phone ? h('span', { class: 'mono' }, c.phone) : null),
        h('div', { class: 'row-sub' }, t('recycle.deleted_by', { name: c.deleted_by_name || t('common.unknown'), time: fmtTime(c.deleted_at) }))),
      h('div', { class: 'row-actions' }, btn));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await api('POST', `/customers/${c.id}/restore`);
        toast(t('recycle.restored', { name: c.name }), 'success');
        list.remove(el);
      } catch (err) {
        btn.disabled = false;
        showError(err);
      }
    });
    return el;
  }

  replace(ctx.main,
    h('p', { class: 'page-note' }, t('recycle.note')),
    h('div', { class: 'toolbar' }, h('div', { class: 'search-wrap' }, icon('search', 'search-icon'), search)),
    h('div', { class: 'list-head' }, total),
    listBox);

  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('recycle.empty'),
    fetchPage: (page, pageSize) => api('GET', '/recycle-bin/customers', { query: { page, page_size: pageSize, q } }),
    renderItem: row,
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
  list.reset();
}
