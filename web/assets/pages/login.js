// 登录. How depends on where the page runs (docs/api-dingtalk-login.md):
// - simulated mode: pick a person of the simulated organization (the picker);
// - inside the DingTalk client: the login-free code from dingtalk-jsapi
//   (dd.runtime.permission.requestAuthCode), exchanged by POST /auth/dingtalk;
// - in any other browser: DingTalk's web login (QR code or account) through
//   /auth/dingtalk/login, which comes back signed in or on a refusal page.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state } from '../state.js';
import { showError, emptyState, spinner } from '../ui.js';
import { signedIn } from '../session.js';

const JSAPI_SRC = '/assets/vendor/dingtalk-jsapi.js';
const AUTH_CODE_TIMEOUT_MS = 15000;

// The DingTalk client (phone and PC) puts "DingTalk" in its user agent.
export function inDingTalk(ua = navigator.userAgent) {
  return /DingTalk/i.test(ua || '');
}

export async function loginPage(ctx) {
  ctx.setTitle(t('login.title'));
  const box = h('div', { class: 'login' });
  replace(ctx.main, box);
  box.append(spinner());

  const cfg = await api('GET', '/auth/config', { noRedirect: true });
  if (!ctx.alive()) return;
  if (cfg.simulated) {
    state.simulated = true;
    ctx.showSimulated();
    // Even inside DingTalk: a real client's code cannot be exchanged with the simulated organization.
    await pickerLogin(ctx, box, cfg);
  } else if (inDingTalk()) {
    await clientLogin(ctx, box, cfg);
  } else {
    browserLogin(box, cfg);
  }
}

// ---- simulated organization --------------------------------------------------

async function pickerLogin(ctx, box, cfg) {
  const data = await api('GET', '/auth/dev-users', { noRedirect: true });
  if (!ctx.alive()) return;
  const users = (data && data.users) || [];
  let busy = false;

  async function pick(u, btn) {
    if (busy) return;
    busy = true;
    btn.classList.add('busy');
    try {
      const res = await api('POST', '/auth/dev-login', { body: { userid: u.userid }, noRedirect: true });
      await signedIn(res.user, res.csrf_token);
      ctx.go('#/customers');
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
      btn.classList.remove('busy');
    }
  }

  replace(box,
    h('div', { class: 'card login-card' },
      h('h2', null, t('login.pick_title')),
      h('p', { class: 'muted' }, t('login.pick_text')),
      users.length === 0 ? emptyState(t('login.no_users')) :
        h('ul', { class: 'login-users' }, users.map((u) => {
          const btn = h('button', {
            type: 'button', class: 'login-user', 'data-testid': `login-user-${u.userid}`,
            onclick: () => pick(u, btn),
          },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, (u.name || '?').slice(0, 1)),
          h('span', { class: 'login-user-text' },
            h('span', { class: 'login-user-name' }, u.name),
            h('span', { class: 'login-user-sub' }, [u.title, u.department].filter(Boolean).join(' · '))),
          h('span', { class: 'login-user-roles' }, (u.roles || []).map((r) => h('span', { class: 'chip' }, r))));
          return h('li', null, btn);
        })),
      simulatedOAuthLink(cfg)));
}

// The simulated DingTalk runs its login page on a loopback port of the server's
// machine, so its web login can only be tried from that machine's own browser.
function simulatedOAuthLink(cfg) {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname)) return null;
  return h('p', { class: 'muted' },
    h('a', { href: cfg.oauth_url || '/auth/dingtalk/login', 'data-testid': 'login-sim-oauth' }, t('login.dt.sim_oauth')));
}

// ---- inside the DingTalk client ----------------------------------------------

async function clientLogin(ctx, box, cfg) {
  replace(box, h('div', { class: 'card login-card', 'data-testid': 'login-dt-client' },
    h('h2', null, t('login.dt.in_client_title')),
    h('p', { class: 'muted' }, t('login.dt.in_client_text')),
    spinner()));
  try {
    // The app's homepage URL may carry ?corpid=$CORPID$ (DingTalk fills it in).
    const corpId = new URLSearchParams(location.search).get('corpid') || cfg.corp_id;
    if (!corpId) throw new Error(t('login.dt.no_corp'));
    const dd = await loadJsapi();
    const code = await requestAuthCode(dd, corpId);
    const res = await api('POST', '/auth/dingtalk', { body: { code }, noRedirect: true });
    await signedIn(res.user, res.csrf_token);
    if (ctx.alive()) ctx.go('#/customers');
  } catch (err) {
    if (!ctx.alive()) return;
    // A refusal (not in the organization, deactivated, used code) is the server's localized message.
    replace(box, h('div', { class: 'card login-card', 'data-testid': 'login-dt-error', 'data-code': err.code || '' },
      h('h2', null, t('login.dt.failed_title')),
      h('p', null, err.message || String(err)),
      h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'login-dt-retry',
        onclick: () => clientLogin(ctx, box, cfg) }, t('login.dt.retry'))));
  }
}

let jsapi = null;

// loadJsapi adds the vendored bundle once; it defines window.dd.
function loadJsapi() {
  if (window.dd) return Promise.resolve(window.dd);
  if (!jsapi) {
    jsapi = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = JSAPI_SRC;
      s.onload = () => (window.dd ? resolve(window.dd) : reject(new Error(t('login.dt.jsapi_failed'))));
      s.onerror = () => { jsapi = null; s.remove(); reject(new Error(t('login.dt.jsapi_failed'))); };
      document.head.appendChild(s);
    });
  }
  return jsapi;
}

// requestAuthCode asks the client for a login-free code (5 minutes, single use).
// A client that never answers (an old version, a page outside the app's domain)
// must not leave the page spinning, hence the timeout.
function requestAuthCode(dd, corpId) {
  const ask = new Promise((resolve, reject) => {
    const run = () => dd.runtime.permission.requestAuthCode({ corpId }).then(
      (r) => (r && r.code ? resolve(r.code) : reject(new Error(t('login.dt.jsapi_error', { detail: 'no code' })))),
      (e) => reject(new Error(t('login.dt.jsapi_error', { detail: jsapiDetail(e) }))));
    if (typeof dd.ready === 'function') dd.ready(run); else run();
  });
  let timer = 0;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(t('login.dt.timeout'))), AUTH_CODE_TIMEOUT_MS);
  });
  return Promise.race([ask, timeout]).finally(() => clearTimeout(timer));
}

// The client's failures look like {errorCode, errorMessage}; code 3 means no
// micro-app is registered for this page's domain.
function jsapiDetail(e) {
  if (!e) return '?';
  const code = e.errorCode ?? e.code;
  const msg = e.errorMessage || e.message || '';
  return [code, msg].filter((x) => x !== undefined && x !== '').join(' ') || String(e);
}

// ---- a browser ---------------------------------------------------------------

function browserLogin(box, cfg) {
  replace(box, h('div', { class: 'card login-card' },
    h('h2', null, t('login.dt.title')),
    h('p', { class: 'muted', 'data-testid': 'login-dingtalk' }, t('login.dt.text')),
    h('a', { class: 'btn btn-primary', href: cfg.oauth_url || '/auth/dingtalk/login', 'data-testid': 'login-dingtalk-oauth' },
      t('login.dt.button'))));
}
