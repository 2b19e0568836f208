// The shell: start-up, header, navigation, hash router, language switch.
import { h, replace, clear, icon } from './dom.js';
import { api, onUnauthorized } from './api.js';
import { t, useLang, savedLang, rememberLang } from './i18n.js';
import { state, can } from './state.js';
import { toast, showError, spinner } from './ui.js';
import { signedIn, loadOptions } from './session.js';
import { loginPage } from './pages/login.js';
import { customerListPage } from './pages/customers.js';
import { customerDetailPage } from './pages/customer-detail.js';
import { customerFormPage } from './pages/customer-form.js';
import { recyclePage } from './pages/recycle.js';
import { usersPage } from './pages/users.js';
import { auditPage } from './pages/audit.js';
import { rolesPage } from './pages/roles.js';
import { salesPage } from './pages/sales.js';
import { followupsPage } from './pages/followups.js';
import { saleFormPage } from './pages/sale-form.js';
import { saleDetailPage } from './pages/sale-detail.js';
import { opportunitiesPage } from './pages/opportunities.js';
import { opportunityFormPage } from './pages/opportunity-form.js';
import { opportunityDetailPage } from './pages/opportunity-detail.js';
import { pipelinePage } from './pages/pipeline.js';
import { poolPage } from './pages/pool.js';
import { poolRulesPage } from './pages/pool-rules.js';
import { duplicatesPage } from './pages/duplicates.js';
import { customerImportPage } from './pages/customer-import.js';
import { dingtalkAdminPage, dingtalkIcon } from './pages/dingtalk-admin.js';
import { settingsPage } from './pages/settings.js';
import { jobsPage } from './pages/jobs.js';
import { systemPage } from './pages/system.js';
import { forgetCatalog } from './catalog.js';
import { reportsHomePage, reportPage } from './pages/reports.js';
import { targetsPage } from './pages/targets.js';
import { remindersPage } from './pages/reminders.js';
import { inboxPage, refreshInboxBadge } from './pages/inbox.js';

// The navigation, in order. On phones the bottom bar shows them all when there are
// at most TABS; otherwise the first TABS-1 and a 更多 button for the rest.
const NAV = [
  { id: 'customers', href: '#/customers', icon: 'customers', label: 'nav.customers', tab: 'tab.customers', perm: 'customer.view' },
  { id: 'reminders', href: '#/reminders', icon: 'bell', label: 'nav.reminders', tab: 'tab.reminders', perm: 'reminder.view' },
  { id: 'opportunities', href: '#/pipeline', icon: 'pipeline', label: 'nav.opportunities', tab: 'tab.opportunities', perm: 'opportunity.view' },
  { id: 'sales', href: '#/sales', icon: 'sales', label: 'nav.sales', tab: 'tab.sales', perm: 'sale.view' },
  { id: 'followups', href: '#/followups', icon: 'followup', label: 'nav.followups', perm: 'followup.view' },
  { id: 'reports', href: '#/reports', icon: 'chart', label: 'report.nav', tab: 'report.tab', perm: 'report.view' },
  { id: 'pool', href: '#/pool', icon: 'pool', label: 'nav.pool', tab: 'tab.pool', perm: 'pool.view' },
  { id: 'duplicates', href: '#/duplicates', icon: 'duplicates', label: 'nav.duplicates', tab: 'tab.duplicates', perm: 'customer.view' },
  { id: 'targets', href: '#/targets', icon: 'trophy', label: 'target.nav', perm: 'target.view' },
  { id: 'recycle', href: '#/recycle', icon: 'recycle', label: 'nav.recycle', perm: 'customer.manage' },
  { id: 'users', href: '#/users', icon: 'users', label: 'nav.users', perm: 'user.view' },
  { id: 'roles', href: '#/roles', icon: 'settings', label: 'roles.nav', perm: 'role.view' },
  { id: 'dingtalk', href: '#/dingtalk', iconEl: dingtalkIcon, label: 'nav.dingtalk', perm: 'user.view' },
  { id: 'audit', href: '#/audit', icon: 'audit', label: 'nav.audit', perm: 'audit.view' },
  { id: 'jobs', href: '#/jobs', icon: 'jobs', label: 'nav.jobs', perm: 'job.view' },
  { id: 'pool-rules', href: '#/pool/rules', icon: 'settings', label: 'nav.pool_rules', perm: 'pool.manage' },
  { id: 'settings', href: '#/settings', icon: 'settings', label: 'nav.settings', perm: 'setting.manage' },
  { id: 'system', href: '#/system', icon: 'settings', label: 'nav.system', perm: 'system.view' },
];
const TABS = 5;

const ROUTES = [
  { re: /^\/login$/, page: loginPage, public: true },
  { re: /^\/customers$/, page: customerListPage, perm: 'customer.view', nav: 'customers' },
  { re: /^\/customers\/new$/, page: customerFormPage, perm: 'customer.create', nav: 'customers' },
  { re: /^\/customers\/import$/, page: customerImportPage, perm: 'customer.import', nav: 'customers' },
  { re: /^\/customers\/(\d+)$/, page: customerDetailPage, perm: 'customer.view', nav: 'customers' },
  { re: /^\/customers\/(\d+)\/edit$/, page: customerFormPage, perm: 'customer.edit', nav: 'customers' },
  { re: /^\/recycle$/, page: recyclePage, perm: 'customer.manage', nav: 'recycle' },
  { re: /^\/users$/, page: usersPage, perm: 'user.view', nav: 'users' },
  { re: /^\/roles$/, page: rolesPage, perm: 'role.view', nav: 'roles' },
  { re: /^\/audit$/, page: auditPage, perm: 'audit.view', nav: 'audit' },
  { re: /^\/followups$/, page: followupsPage, perm: 'followup.view', nav: 'followups' },
  { re: /^\/sales$/, page: salesPage, perm: 'sale.view', nav: 'sales' },
  { re: /^\/sales\/new$/, page: saleFormPage, perm: 'sale.create', nav: 'sales' },
  { re: /^\/sales\/(\d+)$/, page: saleDetailPage, perm: 'sale.view', nav: 'sales' },
  { re: /^\/sales\/(\d+)\/edit$/, page: saleFormPage, perm: 'sale.edit', nav: 'sales' },
  { re: /^\/pipeline$/, page: pipelinePage, perm: 'opportunity.view', nav: 'opportunities', wide: true },
  { re: /^\/opportunities$/, page: opportunitiesPage, perm: 'opportunity.view', nav: 'opportunities' },
  { re: /^\/opportunities\/new$/, page: opportunityFormPage, perm: 'opportunity.create', nav: 'opportunities' },
  { re: /^\/opportunities\/(\d+)$/, page: opportunityDetailPage, perm: 'opportunity.view', nav: 'opportunities' },
  { re: /^\/opportunities\/(\d+)\/edit$/, page: opportunityFormPage, perm: 'opportunity.edit', nav: 'opportunities' },
  { re: /^\/pool$/, page: poolPage, perm: 'pool.view', nav: 'pool' },
  { re: /^\/pool\/rules$/, page: poolRulesPage, perm: 'pool.manage', nav: 'pool-rules' },
  { re: /^\/duplicates$/, page: duplicatesPage, perm: 'customer.view', nav: 'duplicates' },
  { re: /^\/reports$/, page: reportsHomePage, perm: 'report.view', nav: 'reports' },
  { re: /^\/reports\/(sales|customers|performance|funnel|rfm)$/, page: reportPage, perm: 'report.view', nav: 'reports' },
  { re: /^\/targets$/, page: targetsPage, perm: 'target.view', nav: 'targets', wide: true },
  { re: /^\/dingtalk$/, page: dingtalkAdminPage, perm: 'user.view', nav: 'dingtalk' },
  { re: /^\/settings$/, page: settingsPage, perm: 'setting.manage', nav: 'settings' },
  { re: /^\/reminders$/, page: remindersPage, perm: 'reminder.view', nav: 'reminders' },
  { re: /^\/inbox$/, page: inboxPage, nav: 'inbox' },
  { re: /^\/jobs$/, page: jobsPage, perm: 'job.view', nav: 'jobs' },
  { re: /^\/system$/, page: systemPage, perm: 'system.view', nav: 'system' },
];

const root = document.getElementById('app');
let current = null; // {cleanups: [], alive: bool}
let currentCleanups = []; // the shell's own listeners, dropped at the next render

function homeHref() {
  const first = NAV.find((n) => can(n.perm));
  return first ? first.href : '#/customers';
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---- shell -----------------------------------------------------------------

function langSwitch() {
  const other = state.lang === 'en' ? 'zh-CN' : 'en';
  return h('button', {
    type: 'button', class: 'lang-switch', 'data-testid': 'lang-switch',
    title: t('lang.switch'), 'aria-label': t('lang.switch'),
    onclick: () => switchLang(other),
  }, other === 'en' ? 'EN' : '中文');
}

function simBadge() {
  return h('span', { class: 'sim-badge', 'data-testid': 'sim-badge', title: t('sim.hint'), hidden: !state.simulated }, t('sim.badge'));
}

// The company's logo (系统设置) where one was uploaded, else the letter mark.
function brandMark() {
  const url = state.company && state.company.logo_url;
  if (url) return h('img', { class: 'brand-logo', src: url, alt: '', 'data-testid': 'company-logo', style: 'width:28px;height:28px;object-fit:contain;border-radius:6px' });
  return h('span', { class: 'brand-mark' }, 'C');
}

function companyName() {
  return (state.company && state.company.name) || t('app.name');
}

function renderShell(r, params) {
  for (const fn of currentCleanups) fn();
  currentCleanups = [];
  const isIn = !!state.me;
  const body = document.body;
  body.classList.toggle('signed-in', isIn);
  body.classList.toggle('simulated', !!state.simulated);
  const title = h('h1', { class: 'page-title' });
  const back = h('a', { class: 'back-btn', hidden: true, 'aria-label': t('common.back'), 'data-testid': 'back' }, icon('back'));
  const badge = simBadge();
  const header = h('header', { class: 'topbar' },
    h('div', { class: 'topbar-left' }, back,
      isIn && state.company && state.company.logo_url ? h('img', { class: 'topbar-logo', src: state.company.logo_url, alt: companyName(), 'data-testid': 'topbar-logo', style: 'width:24px;height:24px;object-fit:contain;margin-right:6px' }) : null,
      title),
    h('div', { class: 'topbar-right' },
      badge,
      langSwitch(),
      isIn ? h('a', {
        href: '#/inbox', class: ['icon-btn', 'inbox-link', r.nav === 'inbox' && 'active'], 'data-testid': 'inbox-link',
        title: t('nav.inbox'), 'aria-label': t('nav.inbox'),
      }, icon('inbox'), h('span', { class: 'inbox-badge', 'data-testid': 'inbox-badge', hidden: true })) : null,
      isIn ? h('span', { class: 'me-name', 'data-testid': 'me-name' }, state.me.name) : null,
      isIn ? h('button', { type: 'button', class: 'icon-btn', 'data-testid': 'logout', title: t('nav.logout'), 'aria-label': t('nav.logout'), onclick: logout }, icon('logout')) : null));
  const main = h('main', { class: ['content', r.wide && 'content-wide'], id: 'content' });
  let nav = null;
  if (isIn) {
    const items = NAV.filter((n) => can(n.perm));
    const inBar = items.length <= TABS ? items : items.slice(0, TABS - 1);
    const rest = items.slice(inBar.length);
    const link = (n) => h('a', {
      href: n.href, class: ['nav-link', r.nav === n.id && 'active'], 'data-testid': `nav-${n.id}`,
      'aria-current': r.nav === n.id ? 'page' : null,
    }, n.iconEl ? n.iconEl() : icon(n.icon), h('span', { class: 'nav-text' }, t(n.label)), h('span', { class: 'nav-tab-text' }, t(n.tab || n.label)));
    nav = h('nav', { class: 'nav', 'aria-label': t('nav.label') },
      h('div', { class: 'brand' }, brandMark(), h('span', { class: 'brand-name', 'data-testid': 'brand-name' }, companyName())),
      inBar.map(link));
    if (rest.length) {
      // Desktop: the rest follow in the side nav. Phone: they open from 更多 above the bar.
      const panel = h('div', { class: 'nav-more-panel', 'data-testid': 'nav-more-panel' }, rest.map(link));
      const moreBtn = h('button', {
        type: 'button', class: ['nav-link', 'nav-more', rest.some((n) => n.id === r.nav) && 'active'], 'data-testid': 'nav-more',
        'aria-expanded': 'false', 'aria-haspopup': 'true',
      }, icon('more'), h('span', { class: 'nav-tab-text' }, t('nav.more')));
      const setOpen = (open) => {
        nav.classList.toggle('more-open', open);
        moreBtn.setAttribute('aria-expanded', open ? 'true' : 'false');
      };
      moreBtn.addEventListener('click', (e) => { e.stopPropagation(); setOpen(!nav.classList.contains('more-open')); });
      panel.addEventListener('click', () => setOpen(false));
      const outside = (e) => { if (!nav.contains(e.target)) setOpen(false); };
      document.addEventListener('click', outside);
      currentCleanups.push(() => document.removeEventListener('click', outside));
      nav.append(moreBtn, panel);
    }
  }
  replace(root, nav, h('div', { class: 'main-col' }, header, main));
  if (isIn) refreshInboxBadge();
  return {
    main,
    setTitle(s) { title.textContent = s; document.title = `${s} · ${t('app.name')}`; },
    showSimulated() { badge.hidden = !state.simulated; body.classList.toggle('simulated', !!state.simulated); },
    setBack(href) { if (href) { back.href = href; back.hidden = false; } else back.hidden = true; },
  };
}

// ---- router ----------------------------------------------------------------

async function route() {
  const path = (location.hash || '').replace(/^#/, '').split('?')[0] || '/';
  if (current) {
    current.alive = false;
    for (const fn of current.cleanups) { try { fn(); } catch { /* ignore */ } }
  }
  const ctx = { cleanups: [], alive: true };
  current = ctx;

  if (!state.me && path !== '/login') { location.replace('#/login'); return; }
  if (state.me && (path === '/login' || path === '/')) { location.replace(homeHref()); return; }

  let r = null, params = [];
  for (const cand of ROUTES) {
    const m = cand.re.exec(path);
    if (m) { r = cand; params = m.slice(1); break; }
  }
  const shell = renderShell(r || {}, params);
  const pageCtx = {
    main: shell.main,
    params,
    query: new URLSearchParams((location.hash.split('?')[1]) || ''),
    alive: () => ctx.alive,
    onCleanup: (fn) => ctx.cleanups.push(fn),
    setTitle: shell.setTitle,
    setBack: shell.setBack,
    showSimulated: shell.showSimulated,
    go,
    rerender: () => route(),
  };
  window.scrollTo(0, 0);
  if (!r) {
    shell.setTitle(t('error.not_found_page'));
    replace(shell.main, h('div', { class: 'empty' }, t('error.not_found_page'), ' ', h('a', { href: homeHref() }, t('common.home'))));
    return;
  }
  if (r.perm && !can(r.perm)) {
    shell.setTitle(t('error.forbidden_page'));
    replace(shell.main, h('div', { class: 'empty' }, t('error.forbidden_page'), ' ', h('a', { href: homeHref() }, t('common.home'))));
    return;
  }
  replace(shell.main, spinner());
  try {
    await r.page(pageCtx);
  } catch (err) {
    if (!ctx.alive) return;
    showError(err);
    if (err && err.status !== 401) {
      replace(shell.main, h('div', { class: 'empty' }, err.message || String(err), ' ',
        h('button', { type: 'button', class: 'btn btn-text', onclick: () => route() }, t('common.retry'))));
    }
  }
}

// ---- session -----------------------------------------------------------------

async function logout() {
  try { await api('POST', '/auth/logout', { noRedirect: true }); } catch (err) { if (err.status !== 401) showError(err); }
  state.me = null;
  state.csrf = '';
  state.options = null;
  go('#/login');
}

async function switchLang(lang) {
  rememberLang(lang);
  forgetCatalog();
  try {
    await useLang(lang);
    if (state.me) {
      await Promise.all([
        api('PATCH', '/me', { body: { lang } }).then((me) => { if (me && me.id) state.me = { ...state.me, ...me }; }),
        loadOptions(),
      ]);
    }
  } catch (err) { showError(err); }
  route();
}

onUnauthorized(() => {
  if (!state.me) return;
  state.me = null;
  state.options = null;
  toast(t('auth.expired'), 'error');
  go('#/login');
});

async function boot() {
  await useLang(savedLang() || 'zh-CN');
  try {
    const me = await api('GET', '/me', { noRedirect: true });
    await signedIn(me, me.csrf_token);
  } catch (err) {
    if (err.status !== 401) showError(err);
    state.me = null;
  }
  window.addEventListener('hashchange', route);
  route();
}

window.addEventListener('unhandledrejection', (e) => showError(e.reason));
boot().catch((err) => {
  clear(root);
  root.append(h('div', { class: 'empty' }, String(err && err.message || err)));
});
