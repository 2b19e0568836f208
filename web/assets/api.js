// The one way to call the JSON API (docs/api.md): Accept-Language on every call,
// X-CSRF-Token on every state-changing call, errors as ApiError, 401 → login.
import { state } from './state.js';
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, fields, requestId, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || null;
    this.requestId = requestId || '';
    this.detail = detail || null; // e.g. {duplicate: {…}} on a 409 (docs/api-pool.md)
  }
}

export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const s = part.trim();
    if (s.startsWith(name + '=')) return decodeURIComponent(s.slice(name.length + 1));
  }
  return '';
}

let unauthorized = () => {};
export function onUnauthorized(fn) { unauthorized = fn; }

function buildURL(path, query) {
  let url = '/api/v1' + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue;
      qs.append(k, String(v));
    }
    const s = qs.toString();
    if (s) url += '?' + s;
  }
  return url;
}

// The file name of a download from its Content-Disposition (RFC 6266 filename* first).
function dispositionName(header) {
  if (!header) return '';
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (star) {
    try { return decodeURIComponent(star[2].trim()); } catch { /* fall through */ }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
  return plain ? plain[1].trim() : '';
}

// api('GET', '/customers', {query: {q: 'ab'}}) → parsed JSON (null for 204).
// opts.noRedirect: a 401 is the caller's business (used by the start-up /me probe).
// opts.form: a FormData body (multipart upload; the browser sets the boundary).
// opts.blob: answer {blob, filename, headers} instead of JSON (downloads).
export async function api(method, path, opts = {}) {
  const headers = { Accept: opts.blob ? '*/*' : 'application/json', 'Accept-Language': state.lang };
  let body;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) {
    const token = readCookie('crm_csrf') || state.csrf;
    if (token) headers['X-CSRF-Token'] = token;
  }
  let res;
  try {
    res = await fetch(buildURL(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body,
    });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (res.ok && opts.blob) {
    return { blob: await res.blob(), filename: dispositionName(res.headers.get('Content-Disposition')), headers: res.headers };
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`,
      e.message || t('error.http', { status: res.status }), e.fields, res.headers.get('X-Request-ID'), e.detail);
    if (res.status === 401 && !opts.noRedirect) unauthorized(err);
    throw err;
  }
  return data;
}
