// Look-up lists that pages share, fetched once per person and language:
// opportunity stages and lost reasons, follow-up methods, active products, people.
import { api } from './api.js';
import { state, can } from './state.js';

const cache = new Map();

function cached(key, load) {
  const k = `${state.me ? state.me.id : 0}|${state.lang}|${key}`;
  if (!cache.has(k)) {
    const p = load().catch((err) => { cache.delete(k); throw err; });
    cache.set(k, p);
  }
  return cache.get(k);
}

export function forgetCatalog(key) {
  for (const k of [...cache.keys()]) if (!key || k.endsWith(`|${key}`)) cache.delete(k);
}

// {items: [Stage], lost_reasons: [{value, label}]} — stages in board order.
export function stages() {
  return cached('stages', () => api('GET', '/opportunity-stages'));
}

export function followupMethods() {
  return cached('methods', () => api('GET', '/followups/methods').then((r) => (r && r.items) || []));
}

// Active products, for pickers (a record may also name an inactive one it already has).
export function products() {
  return cached('products', async () => {
    const out = [];
    for (let page = 1; page <= 10; page++) {
      const r = await api('GET', '/products', { query: { active: 'true', page, page_size: 100 } });
      const items = (r && r.items) || [];
      out.push(...items);
      if (items.length < 100 || out.length >= (r.total || 0)) break;
    }
    return out;
  });
}

// Active people the signed-in person may pick (needs user.view); null when not allowed.
export function people() {
  if (!can('user.view')) return Promise.resolve(null);
  return cached('people', async () => {
    const out = [];
    for (let page = 1; page <= 10; page++) {
      const r = await api('GET', '/users', { query: { active: 'true', page, page_size: 100 } });
      const items = (r && r.items) || [];
      out.push(...items);
      if (items.length < 100 || out.length >= (r.total || 0)) break;
    }
    return out;
  });
}

export function label(list, value) {
  const o = (list || []).find((x) => x.value === value);
  return o ? o.label : (value || '');
}
