// 消息: the in-app inbox, every notification exactly as DingTalk received it (or would
// have, when DingTalk is not used or the monthly quota ran low). Opening one marks it
// read and follows its link; 全部已读 clears the badge.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { endlessList, fmtTime, chip, toast, showError } from '../ui.js';

// refreshInboxBadge sets the shell's unread badge (data-testid inbox-badge).
export async function refreshInboxBadge() {
  const badge = document.querySelector('[data-testid="inbox-badge"]');
  if (!badge) return;
  try {
    const r = await api('GET', '/inbox/unread', { noRedirect: true });
    const n = (r && r.unread) || 0;
    badge.textContent = n > 99 ? '99+' : String(n);
    badge.hidden = n === 0;
    badge.setAttribute('data-count', String(n));
  } catch { /* the badge is a hint; the page itself reports errors */ }
}

// The little markdown the cards use (headings, **bold**, "- " items), as
// nodes: the words DingTalk shows, without the markup.
function inline(text) {
  return text.split(/\*\*(.+?)\*\*/).map((part, i) => (i % 2 ? h('strong', null, part) : part));
}

export function markdownNodes(md) {
  return String(md || '').split('\n').filter((l) => l.trim() !== '').map((line) => {
    const head = /^(#{1,6})\s+(.*)$/.exec(line);
    if (head) return h('div', { class: ['md-h', head[1].length >= 5 && 'md-small'] }, inline(head[2]));
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (item) return h('div', { class: 'md-li' }, inline(item[1]));
    return h('div', { class: 'md-p' }, inline(line));
  });
}

function entryRow(e, onRead) {
  const open = async () => {
    if (!e.read_at) {
      try { await api('POST', `/inbox/${e.id}/read`); } catch (err) { showError(err); }
      onRead();
    }
    if (e.url) location.hash = e.url.replace(/^#/, '');
  };
  return h('div', { class: ['row', 'inbox-row', !e.read_at && 'is-unread'], 'data-testid': 'inbox-row', 'data-id': String(e.id), 'data-read': e.read_at ? 'true' : 'false' },
    h('div', { class: 'row-main' },
      h('div', { class: 'row-title' },
        e.read_at ? null : h('span', { class: 'unread-dot', 'aria-label': t('inbox.unread') }),
        h('span', { class: 'row-name', 'data-testid': 'inbox-title' }, e.title),
        e.kind === 'digest' ? chip(t('inbox.digest'), 'chip-digest') : null,
        chip(t(`inbox.status.${e.status}`), `chip-delivery chip-delivery-${e.status}`)),
      h('div', { class: 'inbox-body', 'data-testid': 'inbox-body' }, markdownNodes(e.body)),
      h('div', { class: 'row-sub muted' }, fmtTime(e.sent_at || e.created_at), e.reason && e.status !== 'delivered' ? ` · ${e.reason}` : '')),
    h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'inbox-open', onclick: open }, t('inbox.open'))));
}

export async function inboxPage(ctx) {
  ctx.setTitle(t('nav.inbox'));
  const total = h('span', { class: 'total', 'data-testid': 'inbox-total' });
  const listBox = h('div', { class: 'list-box' });
  const readAll = h('button', {
    type: 'button', class: 'btn btn-sm', 'data-testid': 'inbox-read-all',
    onclick: async () => {
      try {
        await api('POST', '/inbox/read-all');
        toast(t('inbox.all_read'), 'success');
        list.reset();
        refreshInboxBadge();
      } catch (err) { showError(err); }
    },
  }, t('inbox.read_all'));
  replace(ctx.main, h('div', { class: 'panel-head' }, total, h('span', { class: 'panel-actions' }, readAll)), listBox);
  const list = endlessList({
    ctx, container: listBox,
    emptyText: t('inbox.empty'),
    fetchPage: (page, pageSize) => api('GET', '/inbox', { query: { page, page_size: pageSize } }),
    renderItem: (e) => entryRow(e, refreshInboxBadge),
    onTotal: (n) => { total.textContent = t('list.total', { n }); },
  });
}
