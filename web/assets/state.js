// Shared, mutable app state: the signed-in person, the CSRF token, the UI language
// and the cached option lists. Everything else is fetched per page.
export const state = {
  me: null,          // the Me object from GET /me, or null when signed out
  csrf: '',          // csrf_token from the login or /me (the crm_csrf cookie wins when readable)
  lang: 'zh-CN',     // current UI language
  simulated: false,  // the server runs the simulated DingTalk organization
  options: null,     // GET /meta/options for the current language
  company: null,     // GET /settings: name, logo_url, timezone … (系统设置)
};

// The default company time zone, until /me or /settings says otherwise.
export const TIME_ZONE = 'Asia/Shanghai';

export function can(perm) {
  return !!(state.me && Array.isArray(state.me.permissions) && state.me.permissions.includes(perm));
}
