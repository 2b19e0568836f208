// 登录: in the simulated organization, pick a person; otherwise DingTalk signs people in.
import { h, replace } from '../dom.js';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { state } from '../state.js';
import { showError, emptyState, spinner } from '../ui.js';
import { signedIn } from '../session.js';

export async function loginPage(ctx) {
  ctx.setTitle(t('login.title'));
  const box = h('div', { class: 'login' });
  replace(ctx.main, box);
  box.append(spinner());

  let data;
  try {
    data = await api('GET', '/auth/dev-users', { noRedirect: true });
  } catch (err) {
    if (!ctx.alive()) return;
    if (err.status === 404) {
      replace(box, h('div', { class: 'card login-card' },
        h('h2', null, t('login.dingtalk_title')),
        h('p', { class: 'muted', 'data-testid': 'login-dingtalk' }, t('login.dingtalk_text'))));
      return;
    }
    throw err;
  }
  if (!ctx.alive()) return;
  if (data && data.simulated) {
    state.simulated = true;
    ctx.showSimulated();
  }
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
        }))));
}
