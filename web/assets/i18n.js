// UI string catalogues (/i18n/<lang>.json, flat {"key": "text"}).
import { state } from './state.js';

export const LANGS = ['zh-CN', 'en'];
const LANG_KEY = 'crm.lang';
const cache = new Map();
let catalogue = {};

export function savedLang() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return LANGS.includes(v) ? v : '';
  } catch { return ''; }
}

export function rememberLang(lang) {
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* private mode */ }
}

export function normalizeLang(v) {
  if (!v) return '';
  if (LANGS.includes(v)) return v;
  return String(v).toLowerCase().startsWith('en') ? 'en' : (String(v).toLowerCase().startsWith('zh') ? 'zh-CN' : '');
}

export async function useLang(lang) {
  lang = normalizeLang(lang) || 'zh-CN';
  if (!cache.has(lang)) {
    const res = await fetch(`/i18n/${lang}.json`, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`catalogue ${lang}: HTTP ${res.status}`);
    cache.set(lang, await res.json());
  }
  catalogue = cache.get(lang);
  state.lang = lang;
  document.documentElement.lang = lang;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogue, key);
}

// t('list.total', {n: 3}) → "共 3 条". Unknown keys show as themselves.
export function t(key, vars) {
  let s = has(key) ? catalogue[key] : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : m));
  return s;
}
