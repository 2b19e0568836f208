// 销售管道: the kanban. One column per open stage with count, amount and weighted amount;
// 赢单 and 输单 as drop tiles above the board. Cards move by drag and drop — HTML5 DnD with a
// mouse, a long-press drag (Pointer Events) with a finger or a pen — or by their 移动到…
// button (a stage picker, the accessible way). All three end in moveCard().
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
  // HTML5 drag with a mouse; a finger or a pen drags after a long press (touch drag below).
  const fine = !window.matchMedia('(pointer: coarse)').matches;

  const board = h('div', { class: 'board', 'data-testid': 'pipeline-board' });
  const openSum = h('div', { class: 'pipe-sum', 'data-testid': 'pipeline-open-sum' });
  const tiles = h('div', { class: 'pipe-tiles' });
  const columns = new Map(); // stage id → column state
  let dragging = null; // {opp, card, from}
  const cardOpp = new WeakMap(); // card element → its opportunity

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

  // ---- touch drag (Pointer Events: a finger or a pen) ----
  // Press a card for LONG_PRESS ms without moving more than SLOP px (a move before that is the
  // board's own scrolling, left to the browser); then a floating copy follows the finger, the
  // column or 赢单/输单 tile under it lights up, and the board scrolls sideways near its edges.
  // Releasing over another stage moves the card by moveCard(); anywhere else cancels.
  // The browser settles panning when the touch starts, so while dragging the board's touchmove
  // listener calls preventDefault(); .touch-dragging (touch-action: none) covers later touches.
  const LONG_PRESS = 350, SLOP = 8, EDGE = 48, MAX_SPEED = 16;
  let touch = null; // {id, x0, y0, x, y, el, opp, timer, active, liftX, liftY, moved, ghost, dx, dy, over, raf}
  let clickBlockUntil = 0;

  function touchDown(e) {
    clickBlockUntil = 0; // a new press: its click is a real one
    if (e.pointerType === 'mouse') return;
    if (touch) { if (!touch.active) stopTouch(); return; } // a second finger: a pinch, not a press
    if (!e.isPrimary || e.button > 0) return;
    const el = e.target.closest('.pcard');
    if (!el || e.target.closest('button') || el.classList.contains('moving')) return;
    const opp = cardOpp.get(el);
    if (!opp) return;
    touch = { id: e.pointerId, x0: e.clientX, y0: e.clientY, x: e.clientX, y: e.clientY, el, opp, active: false, over: null };
    touch.timer = setTimeout(startTouchDrag, LONG_PRESS);
  }

  function touchMove(e) {
    const d = touch;
    if (!d || e.pointerId !== d.id) return;
    d.x = e.clientX; d.y = e.clientY;
    if (!d.active) {
      if (Math.hypot(d.x - d.x0, d.y - d.y0) > SLOP) stopTouch(); // a swipe: the browser scrolls
      return;
    }
    e.preventDefault();
    if (!d.moved && Math.hypot(d.x - d.liftX, d.y - d.liftY) > 2 * SLOP) d.moved = true;
    placeGhost();
    hover();
  }

  function touchUp(e) {
    const d = touch;
    if (!d || e.pointerId !== d.id) return;
    const target = d.active && e.type === 'pointerup' ? targetAt(e.clientX, e.clientY) : null;
    stopTouch();
    if (target) moveCard(d.opp, stageById.get(Number(target.dataset.stageId)));
  }

  function startTouchDrag() {
    const d = touch;
    if (!d || d.active) return;
    if (!ctx.alive() || !d.el.isConnected) { stopTouch(); return; }
    d.active = true;
    d.liftX = d.x; d.liftY = d.y; d.moved = false; // no edge scrolling before the finger sets off
    const r = d.el.getBoundingClientRect();
    d.dx = d.x - r.left; d.dy = d.y - r.top;
    const g = d.el.cloneNode(true);
    for (const n of g.querySelectorAll('[data-testid], [data-id], [id], a, button')) {
      n.removeAttribute('data-testid'); n.removeAttribute('data-id'); n.removeAttribute('id'); n.setAttribute('tabindex', '-1');
    }
    for (const a of ['data-id', 'data-stage-id', 'draggable', 'tabindex']) g.removeAttribute(a);
    g.classList.add('pcard-ghost');
    g.classList.remove('dragging', 'moving');
    g.setAttribute('data-testid', 'pipeline-drag-ghost');
    g.setAttribute('aria-hidden', 'true');
    g.inert = true;
    g.style.width = `${r.width}px`;
    document.body.appendChild(g);
    d.ghost = g;
    try { board.setPointerCapture(d.id); } catch { /* the pointer is gone already: its pointerup/cancel ends this */ }
    d.el.classList.add('dragging');
    board.classList.add('touch-dragging');
    document.body.classList.add('is-dragging', 'touch-dragging');
    placeGhost();
    hover();
    d.raf = requestAnimationFrame(edgeScroll);
  }

  function placeGhost() {
    const d = touch;
    if (d && d.ghost) d.ghost.style.transform = `translate3d(${Math.round(d.x - d.dx)}px, ${Math.round(d.y - d.dy)}px, 0) rotate(2deg)`;
  }

  // The stage under a point: a column or a 赢单/输单 tile of this page.
  function targetAt(x, y) {
    const el = document.elementFromPoint(x, y);
    const target = el && el.closest('[data-testid="pipeline-column"], .pipe-drop');
    return target && ctx.main.contains(target) && target.dataset.stageId ? target : null;
  }

  function hover() {
    const d = touch;
    if (!d || !d.active) return;
    let target = targetAt(d.x, d.y);
    if (target && Number(target.dataset.stageId) === d.opp.stage_id) target = null; // its own column: nothing to do
    if (target === d.over) return;
    if (d.over) d.over.classList.remove('drop-over');
    d.over = target;
    if (target) target.classList.add('drop-over');
  }

  // Near the board's left or right edge the board scrolls, the faster the closer the finger;
  // near the top or bottom of the screen the page does (up to 赢单/输单).
  function edgeScroll() {
    const d = touch;
    if (!d || !d.active) return;
    if (!d.moved) { d.raf = requestAnimationFrame(edgeScroll); return; }
    const r = board.getBoundingClientRect();
    const zone = Math.min(EDGE, r.width / 5);
    const speed = (depth) => Math.max(1, Math.round(Math.min(1, depth / zone) * MAX_SPEED));
    let moved = false;
    const vx = d.x < r.left + zone ? -speed(r.left + zone - d.x) : d.x > r.right - zone ? speed(d.x - (r.right - zone)) : 0;
    if (vx) {
      const before = board.scrollLeft;
      board.scrollLeft += vx;
      moved = board.scrollLeft !== before;
    }
    const vh = window.innerHeight;
    const vy = d.y < zone ? -speed(zone - d.y) : d.y > vh - zone ? speed(d.y - (vh - zone)) : 0;
    if (vy) {
      const before = window.scrollY;
      window.scrollBy(0, vy);
      moved = moved || window.scrollY !== before;
    }
    if (moved) hover();
    d.raf = requestAnimationFrame(edgeScroll);
  }

  function stopTouch() {
    const d = touch;
    if (!d) return;
    touch = null;
    clearTimeout(d.timer);
    if (d.raf) cancelAnimationFrame(d.raf);
    if (!d.active) return;
    clickBlockUntil = Date.now() + 800; // a click the release may cause is no tap on the card
    if (d.ghost) d.ghost.remove();
    d.el.classList.remove('dragging');
    if (d.over) d.over.classList.remove('drop-over');
    board.classList.remove('touch-dragging');
    document.body.classList.remove('is-dragging', 'touch-dragging');
    try { if (board.hasPointerCapture(d.id)) board.releasePointerCapture(d.id); } catch { /* released already */ }
  }

  if (canMove) {
    board.addEventListener('pointerdown', touchDown);
    board.addEventListener('pointermove', touchMove);
    board.addEventListener('pointerup', touchUp);
    board.addEventListener('pointercancel', touchUp);
    // The board losing the finger otherwise than by its release ends the drag (the card's
    // implicit capture, given up to the board, also bubbles here: not that one).
    board.addEventListener('lostpointercapture', (e) => { if (e.target === board && touch && touch.active && e.pointerId === touch.id) stopTouch(); });
    // Once dragging, the finger's moves are the drag's, not a scroll of the board or the page.
    board.addEventListener('touchmove', (e) => { if (touch && touch.active && e.cancelable) e.preventDefault(); }, { passive: false });
    // No long-press menu (of the title link) under a pressed card.
    board.addEventListener('contextmenu', (e) => { if (touch) e.preventDefault(); });
    board.addEventListener('click', (e) => {
      if (Date.now() < clickBlockUntil) { clickBlockUntil = 0; e.preventDefault(); e.stopPropagation(); }
    }, true);
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
    cardOpp.set(el, o);
    if (canMove && fine) {
      el.addEventListener('dragstart', (e) => {
        if (touch) { e.preventDefault(); return; } // a finger's long press drags by the touch drag, not the browser's
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
    const empty = h('div', { class: 'col-empty' }, canMove ? t('pipeline.drop_here') : t('pipeline.col_empty'));
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
  ctx.onCleanup(() => { if (io) io.disconnect(); stopTouch(); document.body.classList.remove('is-dragging', 'touch-dragging'); });
  await load();
}
