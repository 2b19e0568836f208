// 销售管道: the kanban. One column per open stage with count, amount and weighted amount;
// 赢单 and 输单 as drop tiles above the board. Cards move by drag and drop (mouse, HTML5
// DnD) or by their 移动到… button (a stage picker: the touch-friendly way on phones).
// More cards load as a column scrolls (GET /pipeline/{stage_id}?page=).
import { h, replace, clear, icon } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state, can } from '../state.js';
import { select, showError, spinner } from '../ui.js';
import { fmtMoney } from '../format.js';
import { stages, people } from '../catalog.js';
import { viewSwitch } from './opportunities.js';
import { chooseStage, moveOpportunity, offerSale } from './stage-move.js';

const PAGE = 20;
let ownerFilter = '';
let ownerFilterOf = null;

export async function pipelinePage(ctx) {
  ctx.setTitle(t('pipeline.title'));
  if (ownerFilterOf !== state.me.id) { ownerFilter = ''; ownerFilterOf = state.me.id; }
  const [st, owners] = await Promise.all([
    stages(),
    state.me.data_scope !== 'self' ? people().catch((err) => { if (err.status === 401) throw err; return null; }) : null,
  ]);
  if (!ctx.alive()) return;
  const stageById = new Map(st.items.map((s) => [s.id, s]));
  const canMove = can('opportunity.edit');
  // Drag with a mouse; a touch screen (DingTalk on a phone) moves cards with 移动到… instead.
  const fine = !window.matchMedia('(pointer: coarse)').matches;

  const board = h('div', { class: 'board', 'data-testid': 'pipeline-board' });
  const openSum = h('div', { class: 'pipe-sum', 'data-testid': 'pipeline-open-sum' });
  const tiles = h('div', { class: 'pipe-tiles' });
  const columns = new Map(); // stage id → column state
  let dragging = null; // {opp, card, from}

  const ownerSel = owners ? select([{ value: '', label: t('filter.all_owners') }, ...owners.map((u) => ({ value: String(u.id), label: u.name }))], ownerFilter, { 'data-testid': 'pipeline-owner', 'aria-label': t('opp.owner') }) : null;
  if (ownerSel) ownerSel.addEventListener('change', () => { ownerFilter = ownerSel.value; load(); });

  replace(ctx.main,
    h('div', { class: 'toolbar toolbar-split' }, viewSwitch('pipeline'),
      h('div', { class: 'toolbar-actions' },
        ownerSel,
        can('opportunity.create') ? h('a', { class: 'btn btn-primary', href: '#/opportunities/new', 'data-testid': 'opportunity-add' }, icon('plus'), h('span', null, t('opp.add'))) : null)),
    h('div', { class: 'pipe-summary' }, openSum, tiles),
    canMove ? h('p', { class: 'page-note pipe-hint' }, fine ? t('pipeline.hint_drag') : t('pipeline.hint_touch')) : null,
    board);

  // ---- drag and drop (HTML5; chromedp and desktop browsers) ----
  function dropTarget(el, stageId) {
    el.addEventListener('dragover', (e) => {
      if (!dragging) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      el.classList.add('drop-over');
    });
    el.addEventListener('dragleave', (e) => {
      if (!e.relatedTarget || !el.contains(e.relatedTarget)) el.classList.remove('drop-over');
    });
    el.addEventListener('drop', (e) => {
      e.preventDefault();
      el.classList.remove('drop-over');
      const d = dragging;
      endDrag();
      if (d) moveCard(d.opp, stageById.get(stageId));
    });
  }
  function endDrag() {
    if (dragging && dragging.card) dragging.card.classList.remove('dragging');
    dragging = null;
    document.body.classList.remove('is-dragging');
    for (const el of ctx.main.querySelectorAll('.drop-over')) el.classList.remove('drop-over');
  }

  // ---- cards ----
  function card(o) {
    const el = h('div', {
      class: ['pcard', `pcard-${o.status}`], 'data-testid': 'pipeline-card', 'data-id': String(o.id), 'data-stage-id': String(o.stage_id),
      draggable: canMove && fine ? 'true' : null, tabindex: '-1',
    },
    h('div', { class: 'pcard-head' },
      h('a', { class: 'pcard-title', href: `#/opportunities/${o.id}`, draggable: 'false', 'data-testid': 'pipeline-card-title' }, o.title),
      canMove ? h('button', {
        type: 'button', class: 'pcard-move', 'data-testid': 'card-move', title: t('pipeline.move_to'), 'aria-label': t('pipeline.move_card', { name: o.title }),
        onclick: async (e) => {
          e.stopPropagation();
          const stage = await chooseStage(o, st);
          if (stage) moveCard(o, stage);
        },
      }, icon('move'), h('span', null, t('pipeline.move_short'))) : null),
    h('div', { class: 'pcard-customer' }, o.customer_name),
    h('div', { class: 'pcard-foot' },
      h('strong', { class: 'money', 'data-testid': 'pipeline-card-amount' }, fmtMoney(o.amount_fen)),
      h('span', { class: 'pcard-meta' }, [o.owner_name, o.expected_close_date].filter(Boolean).join(' · '))));
    el.addEventListener('click', (e) => {
      if (e.target.closest('a, button')) return;
      ctx.go(`#/opportunities/${o.id}`);
    });
    if (canMove && fine) {
      el.addEventListener('dragstart', (e) => {
        dragging = { opp: o, card: el };
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData('text/plain', String(o.id));
        document.body.classList.add('is-dragging');
        requestAnimationFrame(() => el.classList.add('dragging'));
      });
      el.addEventListener('dragend', endDrag);
    }
    return el;
  }

  async function moveCard(o, stage) {
    if (!stage || stage.id === o.stage_id) return;
    const from = columns.get(o.stage_id);
    const fromCard = from && from.cards.querySelector(`[data-id="${o.id}"]`);
    if (fromCard) fromCard.classList.add('moving');
    const updated = await moveOpportunity(o, stage, st, { ctx, offer: false, onStale: load });
    if (!ctx.alive()) return;
    if (fromCard) fromCard.classList.remove('moving');
    if (!updated) return;
    if (fromCard) { fromCard.remove(); from.ids.delete(o.id); }
    const to = columns.get(updated.stage_id);
    if (to) {
      to.ids.add(updated.id);
      to.cards.insertBefore(card(updated), to.cards.firstChild);
      to.empty.hidden = true;
    }
    if (from) from.empty.hidden = from.ids.size > 0;
    refreshSums();
    if (stage.kind === 'won') offerSale(updated, ctx);
  }

  // ---- columns ----
  function money(fen) { return fmtMoney(fen || 0); }

  function fillHead(col, c) {
    col.count.textContent = String(c.count);
    col.amount.textContent = money(c.amount_fen);
    col.weighted.textContent = money(c.weighted_amount_fen);
    col.total = c.count;
  }

  function column(c) {
    const stage = c.stage;
    const count = h('span', { class: 'col-count', 'data-testid': 'column-count' });
    const amount = h('strong', { class: 'money', 'data-testid': 'column-amount' });
    const weighted = h('span', { class: 'money', 'data-testid': 'column-weighted' });
    const cards = h('div', { class: 'col-cards', 'data-testid': 'column-cards' });
    const empty = h('div', { class: 'col-empty' }, canMove && fine ? t('pipeline.drop_here') : t('pipeline.col_empty'));
    const sentinel = h('div', { class: 'col-sentinel' });
    const el = h('section', { class: 'col', 'data-testid': 'pipeline-column', 'data-stage-id': String(stage.id), 'data-stage-code': stage.code, 'aria-label': stage.name },
      h('header', { class: 'col-head' },
        h('div', { class: 'col-title' }, h('span', { class: 'col-name' }, stage.name), h('span', { class: 'col-prob' }, `${stage.probability}%`), count),
        h('div', { class: 'col-sums' }, amount, h('span', { class: 'col-weighted' }, t('pipeline.weighted'), ' ', weighted))),
      h('div', { class: 'col-body' }, cards, empty, sentinel));
    const col = { stage, el, cards, empty, sentinel, count, amount, weighted, ids: new Set(), page: 1, total: c.count, loading: false, done: false };
    fillHead(col, c);
    for (const o of c.items || []) { col.ids.add(o.id); cards.appendChild(card(o)); }
    col.done = (c.items || []).length >= c.count;
    empty.hidden = col.ids.size > 0;
    if (canMove) dropTarget(el, stage.id);
    return col;
  }

  async function loadMore(col) {
    if (col.loading || col.done || !ctx.alive()) return;
    col.loading = true;
    col.sentinel.replaceChildren(spinner());
    try {
      const r = await api('GET', `/pipeline/${col.stage.id}`, { query: { owner_id: ownerFilter, page: col.page + 1, page_size: PAGE } });
      if (!ctx.alive()) return;
      col.page += 1;
      const items = (r && r.items) || [];
      for (const o of items) {
        if (col.ids.has(o.id)) continue;
        col.ids.add(o.id);
        col.cards.appendChild(card(o));
      }
      col.done = items.length < PAGE || col.page * PAGE >= (r.total || 0);
      col.empty.hidden = col.ids.size > 0;
    } catch (err) {
      showError(err);
      col.done = true;
    } finally {
      col.loading = false;
      clear(col.sentinel);
    }
    if (!col.done && col.sentinel.getBoundingClientRect().top < col.cards.parentElement.getBoundingClientRect().bottom + 100) loadMore(col);
  }

  function tile(kind, c) {
    const stage = c.stage;
    const el = h('a', {
      href: `#/opportunities?status=${kind}`, class: ['pipe-drop', `pipe-drop-${kind}`], 'data-testid': `pipeline-drop-${kind}`, 'data-stage-id': String(stage.id),
    },
    icon(kind === 'won' ? 'trophy' : 'x_circle'),
    h('span', { class: 'pipe-drop-text' },
      h('span', { class: 'pipe-drop-name' }, stage.name, ' ', h('span', { class: 'pipe-drop-count', 'data-testid': `pipeline-${kind}-count` }, String(c.count))),
      h('strong', { class: 'money', 'data-testid': `pipeline-${kind}-amount` }, money(c.amount_fen))));
    if (canMove) dropTarget(el, stage.id);
    return el;
  }

  function drawSums(p) {
    let n = 0, amt = 0n, w = 0n;
    for (const c of p.columns) {
      n += c.count; amt += BigInt(c.amount_fen || 0); w += BigInt(c.weighted_amount_fen || 0);
      const col = columns.get(c.stage.id);
      if (col) fillHead(col, c);
    }
    replace(openSum,
      h('span', { class: 'pipe-sum-label' }, t('pipeline.open_total')),
      h('span', { class: 'pipe-sum-count' }, t('pipeline.n_opps', { n })),
      h('strong', { class: 'money', 'data-testid': 'pipeline-open-amount' }, fmtMoney(amt)),
      h('span', { class: 'muted' }, t('pipeline.weighted'), ' ', h('span', { class: 'money' }, fmtMoney(w))));
    replace(tiles, p.won ? tile('won', p.won) : null, p.lost ? tile('lost', p.lost) : null);
  }

  let io = null;
  async function refreshSums() {
    try {
      const p = await api('GET', '/pipeline', { query: { owner_id: ownerFilter, per_stage: 1 } });
      if (ctx.alive()) drawSums(p);
    } catch (err) { showError(err); }
  }

  async function load() {
    replace(board, spinner());
    let p;
    try {
      p = await api('GET', '/pipeline', { query: { owner_id: ownerFilter, per_stage: PAGE } });
    } catch (err) {
      showError(err);
      replace(board, h('div', { class: 'empty' }, err.message, ' ', h('button', { type: 'button', class: 'btn btn-text', onclick: load }, t('common.retry'))));
      return;
    }
    if (!ctx.alive()) return;
    columns.clear();
    if (io) io.disconnect();
    clear(board);
    for (const c of p.columns) {
      const col = column(c);
      columns.set(c.stage.id, col);
      board.appendChild(col.el);
    }
    drawSums(p);
    io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        const col = [...columns.values()].find((x) => x.sentinel === e.target);
        if (col) loadMore(col);
      }
    }, { rootMargin: '0px 0px 200px 0px' });
    for (const col of columns.values()) io.observe(col.sentinel);
  }
  ctx.onCleanup(() => { if (io) io.disconnect(); document.body.classList.remove('is-dragging'); });
  await load();
}
