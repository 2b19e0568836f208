// 钉钉集成 (#/dingtalk): 连接设置 (the effective settings, the addresses to paste into
// DingTalk, 测试连接), 组织同步 (立即同步 with live progress, the summary, the history),
// 组织架构 (the department tree with people and roles, 手动 / 恢复自动) and 接口调用
// (this month's DingTalk API calls per API against the monthly quota, as CSS bars).
// docs/api-orgsync.md and docs/api-dingtalk-login.md describe the routes.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { can } from '../state.js';
import { toast, showError, spinner, fmtTime, openModal, confirmDialog, chip } from '../ui.js';
import { people as loadPeople } from '../catalog.js';

const POLL_MS = 500;
const HISTORY_PAGE = 10;

// Change counts of a sync summary, in the order they are shown.
const CHANGE_KEYS = [
  'people_added', 'people_changed', 'people_moved', 'people_deactivated', 'people_reactivated', 'roles_changed',
  'departments_added', 'departments_changed', 'departments_removed', 'customers_handed_over', 'opportunities_handed_over',
];

// The nav icon (a link between two nodes: the CRM and DingTalk), built like dom.js icons.
export function dingtalkIcon() {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const p = document.createElementNS(NS, 'path');
  p.setAttribute('d', 'M7 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM17 20a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM9.5 8.5l5 7M14 4h6v6M20 4l-5 5');
  svg.appendChild(p);
  return svg;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function changeCount(summary) {
  if (!summary) return 0;
  return CHANGE_KEYS.reduce((n, k) => n + (Number(summary[k]) || 0), 0);
}

// 340 → "0.3 秒", 65000 → "1 分 5 秒".
function fmtDuration(ms) {
  if (ms === null || ms === undefined || isNaN(ms) || ms < 0) return '';
  if (ms < 1000) return t('dt.dur_ms', { n: Math.max(0, Math.round(ms)) });
  const s = ms / 1000;
  if (s < 60) return t('dt.dur_s', { n: s < 10 ? s.toFixed(1) : Math.round(s) });
  return t('dt.dur_min', { m: Math.floor(s / 60), s: Math.round(s % 60) });
}

function syncDuration(s) {
  if (!s || !s.started_at) return '';
  const end = s.finished_at || (s.status === 'running' ? null : s.updated_at);
  if (!end) return '';
  return fmtDuration(new Date(end) - new Date(s.started_at));
}

function statusChip(status) {
  return h('span', { class: ['chip', `dt-status dt-status-${status}`], 'data-testid': 'dt-sync-status' }, t(`dt.status.${status}`));
}

// A sync error as words: the known codes localized, anything else as DingTalk / the server said it.
function syncErrorText(err) {
  const s = String(err || '');
  let m = /^orgsync\.too_many_leavers(?:.*?count=(\d+))?(?:.*?total=(\d+))?/.exec(s);
  if (m) return t('dt.err_too_many_leavers', { count: m[1] || '?', total: m[2] || '?' });
  m = /^orgsync\.no_admin_left/.exec(s);
  if (m) return t('dt.err_no_admin_left');
  return s || t('common.unknown');
}

// Copies text: the async clipboard where allowed, else a hidden textarea and execCommand.
async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall back */ }
  const ta = h('textarea', { readonly: true, class: 'dt-copy-buffer', 'aria-hidden': 'true' });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

function section(id, title, ...actions) {
  const body = h('div', { class: 'dt-body' });
  const head = h('div', { class: 'dt-head' },
    h('h2', { class: 'dt-title', id: `dt-title-${id}` }, title),
    h('div', { class: 'dt-head-actions' }, actions));
  const el = h('section', { class: ['card', 'dt-section', `dt-${id}`], id: `dt-${id}`, 'data-testid': `dt-${id}`, 'aria-labelledby': `dt-title-${id}` }, head, body);
  return { el, head, body };
}

function failed(box, err, retry) {
  replace(box, h('div', { class: 'notice notice-warn dt-load-error' }, err.message || String(err), ' ',
    h('button', { type: 'button', class: 'btn btn-text btn-sm', onclick: retry }, t('common.retry'))));
}

export async function dingtalkAdminPage(ctx) {
  ctx.setTitle(t('nav.dingtalk'));
  const manage = can('user.manage');
  let names = new Map(); // user id → name, for the history's 发起人

  // ---- 连接设置 --------------------------------------------------------------

  const testBtn = manage ? h('button', { type: 'button', class: 'btn', 'data-testid': 'dt-test' }, t('dt.test')) : null;
  const modeBadge = h('span', { class: 'chip dt-mode', 'data-testid': 'dt-mode', hidden: true });
  const settings = section('settings', t('dt.settings_title'), modeBadge, testBtn);
  const testBox = h('div', { class: 'dt-test-box', 'aria-live': 'polite' });

  function settingRow(key, label, value, { secret, hint } = {}) {
    let v;
    if (secret) {
      v = value && value.set ? h('span', { class: 'mono dt-secret' }, value.masked || '••••••') : h('span', { class: 'muted' }, t('dt.not_set'));
    } else {
      v = value ? h('span', { class: 'mono' }, value) : h('span', { class: 'muted' }, t('dt.not_set'));
    }
    return [h('dt', null, label), h('dd', { 'data-testid': `dt-setting-${key}` }, v, hint ? h('div', { class: 'dt-hint' }, hint) : null)];
  }

  function urlRow(key, label, value, hint) {
    const input = h('input', { type: 'text', readonly: true, class: 'dt-url-input mono', value: value || '', 'data-testid': `dt-url-${key}`, 'aria-label': label, id: `dt-url-${key}` });
    input.addEventListener('focus', () => input.select());
    const btn = h('button', {
      type: 'button', class: 'btn btn-sm dt-copy', 'data-testid': `dt-copy-${key}`, disabled: !value,
      onclick: async () => {
        if (await copyText(value)) toast(t('dt.copied', { what: label }), 'success');
        else { input.focus(); input.select(); toast(t('dt.copy_manual'), 'error'); }
      },
    }, t('dt.copy'));
    return h('div', { class: 'dt-url' },
      h('label', { class: 'dt-url-label', for: input.id }, label),
      h('div', { class: 'dt-url-line' }, input, btn),
      hint ? h('div', { class: 'dt-hint' }, hint) : null);
  }

  function renderSettings(s) {
    const sim = s.mode === 'simulated';
    modeBadge.hidden = false;
    modeBadge.className = ['chip', 'dt-mode', sim ? 'dt-mode-sim' : 'dt-mode-real'].join(' ');
    modeBadge.textContent = sim ? t('dt.mode_sim_badge') : t('dt.mode_real_badge');
    modeBadge.dataset.mode = s.mode;
    modeBadge.title = sim ? t('dt.mode_sim_text') : t('dt.mode_real_text');
    const transport = s.transport === 'stream' ? t('dt.transport_stream') : t('dt.transport_http');
    replace(settings.body,
      sim ? h('div', { class: 'notice notice-warn dt-sim-notice', 'data-testid': 'dt-sim-notice' }, t('dt.sim_notice')) : null,
      (s.warnings || []).length ? h('ul', { class: 'notice notice-warn dt-warnings', 'data-testid': 'dt-warnings' }, s.warnings.map((w) => h('li', null, w))) : null,
      h('dl', { class: 'dt-fields' },
        settingRow('mode', t('dt.mode'), sim ? t('dt.mode_sim') : t('dt.mode_real')),
        settingRow('app_key', 'AppKey (Client ID)', s.app_key),
        settingRow('app_secret', 'AppSecret (Client Secret)', s.app_secret, { secret: true }),
        settingRow('agent_id', 'AgentId', s.agent_id),
        settingRow('corp_id', 'CorpId', s.corp_id),
        settingRow('callback_token', t('dt.callback_token'), s.callback_token, { secret: true }),
        settingRow('aes_key', t('dt.aes_key'), s.aes_key, { secret: true }),
        settingRow('transport', t('dt.transport'), transport),
        settingRow('public_url', t('dt.public_url'), s.public_url, { hint: s.public_url ? '' : t('dt.public_url_hint') })),
      h('h3', { class: 'dt-subtitle' }, t('dt.urls_title')),
      h('p', { class: 'dt-hint dt-urls-intro' }, t('dt.urls_intro')),
      h('div', { class: 'dt-urls' },
        urlRow('callback_url', t('dt.callback_url'), s.callback_url, s.transport === 'stream' ? t('dt.callback_url_hint_stream') : t('dt.callback_url_hint')),
        urlRow('oauth_redirect_url', t('dt.oauth_redirect_url'), s.oauth_redirect_url, t('dt.oauth_redirect_url_hint')),
        urlRow('homepage_url', t('dt.homepage_url'), s.homepage_url, t('dt.homepage_url_hint'))),
      h('p', { class: 'notice dt-note', 'data-testid': 'dt-settings-note' }, s.note || t('dt.settings_note')),
      testBox);
  }

  async function loadSettings() {
    if (!manage) {
      replace(settings.body, h('p', { class: 'muted', 'data-testid': 'dt-settings-forbidden' }, t('dt.settings_need_manage')));
      return;
    }
    replace(settings.body, spinner());
    try {
      const s = await api('GET', '/dingtalk/settings');
      if (ctx.alive()) renderSettings(s || {});
    } catch (err) {
      if (ctx.alive()) failed(settings.body, err, loadSettings);
    }
  }

  function testResult(r) {
    if (r.ok) {
      return h('div', { class: 'dt-test-result dt-test-ok', 'data-testid': 'dt-test-result', 'data-ok': 'true', role: 'status' },
        h('strong', null, t('dt.test_ok')),
        h('div', null, r.message || (r.root_department ? t('dt.test_root', { name: r.root_department }) : '')),
        r.elapsed_ms !== undefined ? h('div', { class: 'dt-hint' }, t('dt.test_elapsed', { ms: r.elapsed_ms })) : null);
    }
    const e = r.error || {};
    const rows = [
      ['api', t('dt.err_api'), e.api],
      ['http_status', t('dt.err_http'), e.http_status],
      ['errcode', t('dt.err_errcode'), e.errcode],
      ['code', t('dt.err_code'), e.code],
      ['sub_code', t('dt.err_sub_code'), e.sub_code],
      ['message', t('dt.err_message'), e.message],
      ['request_id', t('dt.err_request_id'), e.request_id],
    ].filter((x) => x[2] !== undefined && x[2] !== null && x[2] !== '' && x[2] !== 0);
    return h('div', { class: 'dt-test-result dt-test-fail', 'data-testid': 'dt-test-result', 'data-ok': 'false', role: 'alert' },
      h('strong', null, t('dt.test_fail', { step: t(`dt.step.${r.step || 'token'}`) })),
      r.message ? h('div', null, r.message) : null,
      rows.length ? h('dl', { class: 'mini-fields dt-test-error' }, rows.map(([k, label, v]) => [h('dt', null, label), h('dd', { class: 'mono', 'data-testid': `dt-test-${k}` }, String(v))])) : null);
  }

  if (testBtn) {
    testBtn.addEventListener('click', async () => {
      testBtn.disabled = true;
      replace(testBox, h('div', { class: 'dt-test-result' }, spinner()));
      try {
        const r = await api('POST', '/dingtalk/test');
        if (!ctx.alive()) return;
        replace(testBox, testResult(r || {}));
        loadUsage();
      } catch (err) {
        if (!ctx.alive()) return;
        replace(testBox, h('div', { class: 'dt-test-result dt-test-fail', 'data-testid': 'dt-test-result', 'data-ok': 'false' }, err.message));
        showError(err);
      } finally { testBtn.disabled = false; }
    });
  }

  // ---- 组织同步 --------------------------------------------------------------

  const syncBtn = manage ? h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'dt-sync-start' }, t('dt.sync_now')) : null;
  const sync = section('sync', t('dt.sync_title'), syncBtn);
  const liveBox = h('div', { class: 'dt-live', 'aria-live': 'polite' });
  const historyTotal = h('span', { class: 'dt-count', 'data-testid': 'dt-sync-total' });
  const historyBody = h('tbody');
  const historyMore = h('button', { type: 'button', class: 'btn btn-text btn-sm', 'data-testid': 'dt-sync-more', hidden: true }, t('list.more'));
  const historyBox = h('div', { class: 'dt-history-box' });
  replace(sync.body,
    h('p', { class: 'dt-hint' }, manage ? t('dt.sync_intro') : t('dt.sync_intro_view')),
    liveBox,
    h('div', { class: 'dt-subhead' }, h('h3', { class: 'dt-subtitle' }, t('dt.history_title')), historyTotal),
    historyBox);
  let following = 0; // generation of the sync being followed
  let historyPage = 0;

  function progressView(s) {
    const phase = s.phase || 'start';
    let pct = 0, text = t(`dt.phase.${phase}`), indeterminate = false;
    if (phase === 'departments') {
      pct = s.total ? Math.min(100, Math.round((s.done || 0) * 100 / s.total)) : 0;
      text = t('dt.progress_departments', { done: s.done || 0, total: s.total || 0 });
    } else if (phase === 'start') indeterminate = true;
    else pct = 100;
    return h('div', { class: 'dt-progress-box', 'data-testid': 'dt-sync-progress', 'data-phase': phase },
      h('div', { class: 'dt-progress-line' },
        h('span', { class: 'spin' }),
        h('span', { class: 'dt-phase', 'data-testid': 'dt-sync-phase' }, text),
        s.calls ? h('span', { class: 'dt-hint' }, t('dt.calls_so_far', { n: s.calls })) : null),
      h('div', {
        class: ['progress', indeterminate && 'dt-indeterminate'], role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
        'aria-valuenow': indeterminate ? null : String(pct), 'aria-label': text,
      }, h('div', { class: 'progress-bar', 'data-testid': 'dt-sync-bar', style: `width:${indeterminate ? 30 : pct}%` })));
  }

  function summaryView(s, { live } = {}) {
    const sum = s.summary || {};
    const n = changeCount(s.summary);
    const parts = [];
    if (s.status === 'done') {
      if (n === 0) {
        parts.push(h('div', { class: 'dt-result dt-result-ok', 'data-testid': 'dt-sync-uptodate' }, t('dt.sync_uptodate')));
      } else {
        parts.push(h('div', { class: 'dt-result dt-result-ok' }, t('dt.sync_done_changes', { n })));
        parts.push(h('div', { class: 'dt-stats' }, CHANGE_KEYS.filter((k) => sum[k]).map((k) => {
          const sample = (sum.samples && sum.samples[k]) || [];
          return h('div', { class: ['stat', `dt-stat-${k}`], 'data-testid': `dt-sum-${k}` },
            h('span', { class: 'stat-label' }, t(`dt.sum.${k}`)),
            h('strong', null, String(sum[k])),
            sample.length ? h('span', { class: 'dt-sample' }, sample.join('、') + (sum[k] > sample.length ? t('dt.sample_more') : '')) : null);
        })));
      }
      if (sum.manual_roles_kept) parts.push(h('p', { class: 'dt-hint' }, t('dt.manual_kept', { n: sum.manual_roles_kept })));
    } else if (s.status === 'failed') {
      parts.push(h('div', { class: 'dt-result dt-result-fail', role: 'alert' }, t('dt.sync_failed'), '：', syncErrorText(s.error)));
      if (manage && live && /^orgsync\.too_many_leavers/.test(s.error || '')) {
        parts.push(h('button', { type: 'button', class: 'btn btn-danger-outline btn-sm', 'data-testid': 'dt-sync-force', onclick: forceSync }, t('dt.sync_force')));
      }
    } else if (s.status === 'interrupted') {
      parts.push(h('div', { class: 'dt-result dt-result-fail' }, t('dt.sync_interrupted')));
    }
    const meta = [];
    if (sum.departments !== undefined) meta.push(t('dt.scan', { d: sum.departments || 0, p: sum.people || 0 }));
    const calls = sum.calls ?? s.calls;
    if (calls) meta.push(t('dt.scan_calls', { n: calls }));
    const dur = syncDuration(s);
    if (dur) meta.push(t('dt.scan_time', { d: dur }));
    if (meta.length) parts.push(h('p', { class: 'dt-hint dt-meta' }, meta.join(' · ')));
    return h('div', { class: 'dt-summary', 'data-testid': 'dt-sync-summary', 'data-id': String(s.id), 'data-status': s.status, 'data-changes': String(n) }, parts);
  }

  // Follows a sync until it ends: progress every POLL_MS, then the summary.
  async function follow(s, conflictNote) {
    const gen = ++following;
    if (syncBtn) syncBtn.disabled = true;
    const note = conflictNote ? h('div', { class: 'notice notice-warn', 'data-testid': 'dt-sync-conflict' }, conflictNote) : null;
    try {
      while (s && s.status === 'running') {
        replace(liveBox, note, progressView(s));
        await sleep(POLL_MS);
        if (!ctx.alive() || gen !== following) return;
        s = await api('GET', `/org/sync/${s.id}`);
        if (!ctx.alive() || gen !== following) return;
      }
      replace(liveBox, note, summaryView(s, { live: true }));
      if (s.status === 'done') toast(changeCount(s.summary) ? t('dt.sync_done_changes', { n: changeCount(s.summary) }) : t('dt.sync_uptodate'), 'success');
      loadHistory();
      loadTree();
      loadUsage();
    } catch (err) {
      if (!ctx.alive() || gen !== following) return;
      replace(liveBox, note, h('div', { class: 'dt-result dt-result-fail' }, err.message));
      showError(err);
    } finally {
      if (gen === following && syncBtn) syncBtn.disabled = false;
    }
  }

  async function startSync(force) {
    if (syncBtn) syncBtn.disabled = true;
    replace(liveBox, progressView({ phase: 'start' }));
    try {
      const s = await api('POST', '/org/sync', force ? { body: { force: true } } : {});
      if (!ctx.alive()) return;
      loadHistory();
      follow(s);
    } catch (err) {
      if (!ctx.alive()) return;
      if (err.status === 409) {
        const id = err.detail && err.detail.sync_id;
        const msg = t('dt.sync_conflict');
        if (id) {
          try {
            const s = await api('GET', `/org/sync/${id}`);
            if (ctx.alive()) follow(s, msg);
            return;
          } catch { /* show the note alone */ }
        }
        replace(liveBox, h('div', { class: 'notice notice-warn', 'data-testid': 'dt-sync-conflict' }, msg));
      } else {
        replace(liveBox);
        showError(err);
      }
      if (syncBtn) syncBtn.disabled = false;
    }
  }

  async function forceSync() {
    const ok = await confirmDialog({ title: t('dt.sync_force'), message: t('dt.sync_force_confirm'), okText: t('dt.sync_force'), danger: true });
    if (ok) startSync(true);
  }
  if (syncBtn) syncBtn.addEventListener('click', () => startSync(false));

  function who(s) {
    const origin = t(`dt.origin.${s.origin}`);
    if (!s.started_by) return h('span', null, t('dt.by_system'), h('span', { class: 'dt-hint' }, ` · ${origin}`));
    const name = names.get(s.started_by) || t('dt.user_n', { id: s.started_by });
    return h('span', null, name, h('span', { class: 'dt-hint' }, ` · ${origin}`));
  }

  function shortSummary(s) {
    if (s.status === 'running') return t(`dt.phase.${s.phase || 'start'}`);
    if (s.status === 'failed') return syncErrorText(s.error);
    if (s.status === 'interrupted') return t('dt.sync_interrupted');
    const sum = s.summary || {};
    const bits = CHANGE_KEYS.filter((k) => sum[k]).map((k) => `${t(`dt.sum.${k}`)} ${sum[k]}`);
    return bits.length ? bits.join(t('dt.list_sep')) : t('dt.uptodate_short');
  }

  function historyRow(s) {
    const detail = s.status !== 'running' ? h('button', {
      type: 'button', class: 'btn btn-text btn-sm dt-detail-btn', 'data-testid': 'dt-sync-detail',
      onclick: () => openModal({ title: t('dt.sync_detail', { id: s.id }), body: summaryView(s) }),
    }, t('dt.detail')) : null;
    return h('tr', { 'data-testid': 'dt-sync-row', 'data-id': String(s.id), 'data-status': s.status, 'data-changes': String(changeCount(s.summary)) },
      h('td', { 'data-label': t('dt.col_time'), class: 'mono' }, fmtTime(s.started_at)),
      h('td', { 'data-label': t('dt.col_who') }, who(s)),
      h('td', { 'data-label': t('dt.col_duration'), class: 'mono' }, syncDuration(s) || '—'),
      h('td', { 'data-label': t('dt.col_summary'), class: 'dt-col-summary' }, h('span', { 'data-testid': 'dt-sync-short' }, shortSummary(s)), ' ', detail),
      h('td', { 'data-label': t('dt.col_status') }, statusChip(s.status)));
  }

  async function loadHistory(more) {
    const page = more ? historyPage + 1 : 1;
    if (!more) replace(historyBox, spinner());
    historyMore.disabled = true;
    try {
      const [res, list] = await Promise.all([
        api('GET', '/org/syncs', { query: { page, page_size: HISTORY_PAGE } }),
        loadPeople().catch(() => null),
      ]);
      if (!ctx.alive()) return;
      if (list) names = new Map(list.map((u) => [u.id, u.name]));
      historyPage = page;
      const items = (res && res.items) || [];
      const total = (res && res.total) || 0;
      historyTotal.textContent = t('list.total', { n: total });
      historyTotal.dataset.total = String(total);
      if (!more) historyBody.replaceChildren();
      for (const s of items) historyBody.appendChild(historyRow(s));
      historyMore.hidden = historyBody.children.length >= total || items.length === 0;
      if (!total) replace(historyBox, h('p', { class: 'muted dt-empty' }, t('dt.history_empty')));
      else if (!more) {
        replace(historyBox,
          h('div', { class: 'table-wrap' }, h('table', { class: 'dt-table', 'data-testid': 'dt-sync-history' },
            h('thead', null, h('tr', null,
              h('th', null, t('dt.col_time')), h('th', null, t('dt.col_who')), h('th', null, t('dt.col_duration')),
              h('th', null, t('dt.col_summary')), h('th', null, t('dt.col_status')))),
            historyBody)),
          historyMore);
      }
      // a sync running when the page opens (another admin, the CLI): show its progress
      if (!more && following === 0 && items[0] && items[0].status === 'running') follow(items[0], t('dt.sync_running_found'));
    } catch (err) {
      if (!ctx.alive()) return;
      if (more) showError(err); else failed(historyBox, err, () => loadHistory());
    } finally { historyMore.disabled = false; }
  }
  historyMore.addEventListener('click', () => loadHistory(true));

  // ---- 组织架构 --------------------------------------------------------------

  const expandBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'dt-tree-expand' }, t('dt.expand_all'));
  const collapseBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'dt-tree-collapse' }, t('dt.collapse_all'));
  const tree = section('tree', t('dt.tree_title'), expandBtn, collapseBtn);
  const treeCount = h('span', { class: 'dt-count', 'data-testid': 'dt-tree-count' });
  tree.head.querySelector('.dt-title').append(' ', treeCount);
  expandBtn.addEventListener('click', () => { for (const d of tree.body.querySelectorAll('details.dt-dept')) d.open = true; });
  collapseBtn.addEventListener('click', () => { for (const d of tree.body.querySelectorAll('details.dt-dept')) d.open = false; });

  function subtreePeople(d, set) {
    for (const p of d.people || []) set.add(p.id);
    for (const c of d.children || []) subtreePeople(c, set);
    return set;
  }

  function personRow(p) {
    const roles = (p.roles || []).map((r) => chip(r.name, 'chip-role'));
    const action = manage && p.roles_manual && p.source !== 'manual'
      ? h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'dt-auto-roles', onclick: () => autoRoles(p) }, t('dt.auto_roles'))
      : null;
    return h('li', { class: 'dt-person', 'data-testid': 'dt-person', 'data-id': String(p.id), 'data-userid': p.userid || '', 'data-name': p.name },
      h('span', { class: 'avatar avatar-soft dt-avatar', 'aria-hidden': 'true' }, (p.name || '?').slice(0, 1)),
      h('div', { class: 'dt-person-main' },
        h('div', { class: 'dt-person-title' },
          h('span', { class: 'dt-person-name', 'data-testid': 'dt-person-name' }, p.name),
          p.title ? h('span', { class: 'dt-hint' }, p.title) : null,
          p.manager ? chip(t('dt.manager'), 'dt-chip-manager') : null,
          p.admin_level === 1 ? chip(t('dt.admin_main'), 'dt-chip-admin') : null,
          p.admin_level === 2 ? chip(t('dt.admin_sub'), 'dt-chip-admin') : null,
          p.main === false ? chip(t('dt.secondary_dept'), 'chip-grey') : null,
          p.source === 'manual' ? chip(t('user.source_manual'), 'chip-outline') : null),
        h('div', { class: 'dt-person-roles chips', 'data-testid': 'dt-person-roles' },
          roles,
          p.roles_manual ? h('span', { class: 'chip dt-chip-manual', 'data-testid': 'dt-manual', title: t('dt.manual_hint') }, t('dt.manual')) : null)),
      action ? h('div', { class: 'dt-person-actions' }, action) : null);
  }

  function deptNode(d, depth, openAll) {
    const n = subtreePeople(d, new Set()).size;
    const kids = d.children || [];
    const ppl = d.people || [];
    return h('details', { class: 'dt-dept', open: openAll || depth < 2, 'data-testid': 'dt-dept', 'data-id': String(d.id), 'data-name': d.name, 'data-depth': String(depth) },
      h('summary', { class: 'dt-dept-head' },
        h('span', { class: 'dt-dept-name', 'data-testid': 'dt-dept-name' }, d.name),
        h('span', { class: 'dt-dept-count' }, t('dt.tree_people', { n }))),
      h('div', { class: 'dt-dept-body' },
        ppl.length ? h('ul', { class: 'dt-people', 'data-testid': 'dt-people' }, ppl.map(personRow)) : (kids.length ? null : h('p', { class: 'dt-hint dt-dept-empty' }, t('dt.dept_empty'))),
        kids.map((c) => deptNode(c, depth + 1, openAll))));
  }

  async function loadTree() {
    const first = !tree.body.firstChild || tree.body.querySelector('.loading');
    if (first) replace(tree.body, spinner());
    try {
      const res = await api('GET', '/org/tree');
      if (!ctx.alive()) return;
      const depts = (res && res.departments) || [];
      // keep what the person opened or closed across reloads
      const was = new Map([...tree.body.querySelectorAll('details.dt-dept')].map((d) => [d.dataset.id, d.open]));
      let count = 0;
      const walk = (d) => { count += 1; (d.children || []).forEach(walk); };
      depts.forEach(walk);
      const everyone = new Set();
      depts.forEach((d) => subtreePeople(d, everyone));
      treeCount.textContent = t('dt.tree_count', { d: count, p: everyone.size });
      replace(tree.body,
        h('p', { class: 'dt-hint' }, manage ? t('dt.tree_intro') : t('dt.tree_intro_view')),
        depts.length ? h('div', { class: 'dt-tree', 'data-testid': 'dt-tree-root' }, depts.map((d) => deptNode(d, 0, count <= 12))) : h('p', { class: 'muted dt-empty' }, t('dt.tree_empty')));
      for (const d of tree.body.querySelectorAll('details.dt-dept')) if (was.has(d.dataset.id)) d.open = was.get(d.dataset.id);
    } catch (err) {
      if (ctx.alive()) failed(tree.body, err, loadTree);
    }
  }

  async function autoRoles(p) {
    const ok = await confirmDialog({ title: t('dt.auto_roles'), message: t('dt.auto_roles_confirm', { name: p.name }), okText: t('dt.auto_roles') });
    if (!ok) return;
    try {
      const u = await api('POST', `/org/users/${p.id}/auto-roles`);
      const roles = ((u && u.roles) || []).map((r) => r.name).join('、');
      toast(t('dt.auto_roles_done', { name: p.name, roles: roles || '—' }), 'success');
      loadTree();
    } catch (err) { showError(err); }
  }

  // ---- 接口调用 --------------------------------------------------------------

  const usageMonth = h('span', { class: 'dt-count', 'data-testid': 'dt-usage-month' });
  const usage = section('usage', t('dt.usage_title'));
  usage.head.querySelector('.dt-title').append(' ', usageMonth);

  function renderUsage(u) {
    const apis = [...(u.apis || [])].sort((a, b) => (b.calls || 0) - (a.calls || 0) || String(a.api).localeCompare(String(b.api)));
    const max = Math.max(1, ...apis.map((a) => a.calls || 0));
    const quota = u.quota || 0;
    const counted = u.quota_calls || 0;
    const pct = quota ? Math.min(100, Math.round(counted * 1000 / quota) / 10) : 0;
    usageMonth.textContent = u.month || '';
    replace(usage.body,
      h('div', { class: 'dt-stats' },
        h('div', { class: 'stat', 'data-testid': 'dt-usage-total', 'data-total': String(u.total || 0) },
          h('span', { class: 'stat-label' }, t('dt.usage_total')), h('strong', null, String(u.total || 0))),
        h('div', { class: 'stat', 'data-testid': 'dt-usage-counted', 'data-counted': String(counted), 'data-quota': String(quota) },
          h('span', { class: 'stat-label' }, t('dt.usage_counted')), h('strong', null, quota ? t('dt.usage_of', { n: counted, q: quota }) : String(counted))),
        h('div', { class: ['stat', quota && u.remaining <= quota * 0.1 ? 'stat-bad' : 'stat-ok'], 'data-testid': 'dt-usage-remaining' },
          h('span', { class: 'stat-label' }, t('dt.usage_remaining')), h('strong', null, quota ? String(u.remaining ?? Math.max(0, quota - counted)) : '—'))),
      quota ? h('div', { class: 'dt-quota' },
        h('div', { class: 'progress dt-quota-bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(quota), 'aria-valuenow': String(counted), 'aria-label': t('dt.usage_counted'), 'data-testid': 'dt-usage-quota' },
          h('div', { class: ['progress-bar', pct >= 90 && 'dt-bar-danger', pct >= 70 && pct < 90 && 'dt-bar-warn'], style: `width:${pct}%` })),
        h('div', { class: 'dt-hint' }, t('dt.usage_quota_line', { pct, q: quota }))) : null,
      apis.length ? h('ol', { class: 'dt-chart', 'data-testid': 'dt-usage-chart', 'aria-label': t('dt.usage_chart') }, apis.map((a) => {
        const w = Math.max(1, Math.round((a.calls || 0) * 1000 / max) / 10);
        return h('li', { class: ['dt-bar-row', a.exempt && 'is-exempt'], 'data-testid': 'dt-usage-bar', 'data-api': a.api, 'data-calls': String(a.calls || 0), 'data-exempt': a.exempt ? 'true' : 'false' },
          h('span', { class: 'dt-bar-label mono', title: a.api }, a.api),
          h('span', { class: 'dt-bar-track', 'aria-hidden': 'true' }, h('span', { class: 'dt-bar-fill', style: `width:${w}%` })),
          h('span', { class: 'dt-bar-value mono' }, String(a.calls || 0),
            a.exempt ? h('span', { class: 'dt-bar-exempt' }, t('dt.usage_exempt')) : (quota ? h('span', { class: 'dt-bar-exempt' }, t('dt.usage_share', { pct: Math.round((a.calls || 0) * 1000 / quota) / 10 })) : null)));
      })) : h('p', { class: 'muted dt-empty', 'data-testid': 'dt-usage-empty' }, t('dt.usage_empty')),
      h('p', { class: 'dt-hint dt-legend' },
        h('span', { class: 'dt-legend-item' }, h('span', { class: 'dt-swatch' }), t('dt.usage_legend_counted')),
        h('span', { class: 'dt-legend-item' }, h('span', { class: 'dt-swatch is-exempt' }), t('dt.usage_legend_exempt'))));
  }

  async function loadUsage() {
    if (!usage.body.firstChild) replace(usage.body, spinner());
    try {
      const u = await api('GET', '/dingtalk/usage');
      if (ctx.alive()) renderUsage(u || {});
    } catch (err) {
      if (ctx.alive()) failed(usage.body, err, loadUsage);
    }
  }

  // ---- the page --------------------------------------------------------------

  const parts = [settings, sync, tree, usage];
  const ids = ['settings', 'sync', 'tree', 'usage'];
  const jump = h('nav', { class: 'tabs dt-jump', 'aria-label': t('nav.dingtalk') }, ids.map((id, i) => h('button', {
    type: 'button', class: ['tab', i === 0 && 'active'], 'data-testid': `dt-jump-${id}`,
    onclick: (e) => {
      for (const b of jump.children) b.classList.toggle('active', b === e.currentTarget);
      parts[i].el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    },
  }, t(`dt.jump_${id}`))));
  replace(ctx.main, jump, h('div', { class: 'dt-grid' }, parts.map((p) => p.el)));
  // the jump bar follows the scroll: the section at the top of the screen is the active one
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const i = parts.findIndex((p) => p.el === e.target);
      jump.children[i].classList.add('active');
      for (const b of jump.children) if (b !== jump.children[i]) b.classList.remove('active');
    }
  }, { rootMargin: '-120px 0px -65% 0px' });
  for (const p of parts) io.observe(p.el);
  ctx.onCleanup(() => io.disconnect());
  ctx.onCleanup(() => { following += 1; });
  await Promise.all([loadSettings(), loadHistory(), loadTree(), loadUsage()]);
}
