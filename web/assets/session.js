// Signing in: remember the person, settle the language, load the option lists.
import { api } from './api.js';
import { useLang, savedLang, normalizeLang } from './i18n.js';
import { state } from './state.js';

export async function loadOptions() {
  state.options = await api('GET', '/meta/options');
  return state.options;
}

// The company settings (name and logo for the header, time zone for times).
export async function loadCompany() {
  try { state.company = await api('GET', '/settings'); } catch { state.company = null; }
  return state.company;
}

export async function signedIn(me, csrf) {
  state.me = me;
  state.csrf = csrf || me.csrf_token || state.csrf;
  if (me.simulated) state.simulated = true;
  const chosen = savedLang();
  const theirs = normalizeLang(me.lang);
  if (chosen && chosen !== theirs) {
    // this device's explicit choice wins; tell the server so its messages follow it
    api('PATCH', '/me', { body: { lang: chosen } }).catch(() => {});
  } else if (!chosen && theirs && theirs !== state.lang) {
    await useLang(theirs);
  }
  await Promise.all([loadOptions(), loadCompany()]);
}
