// Money and date ranges. Money is integer fen everywhere (docs/api-sale.md); the UI
// shows it as ¥12,345.67 and reads yuan strings back into fen without floats.
import { today } from './ui.js';

function toBig(fen) {
  if (typeof fen === 'bigint') return fen;
  const n = Number(fen);
  return BigInt(Number.isFinite(n) ? Math.trunc(n) : 0);
}

// 1234567 → "¥12,345.67"; null/undefined → "".
export function fmtMoney(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  let n = toBig(fen);
  const neg = n < 0n;
  if (neg) n = -n;
  const yuan = (n / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (n % 100n).toString().padStart(2, '0');
  return `${neg ? '-' : ''}¥${yuan}.${cents}`;
}

// 1234567 → "12345.67" (for an input's value).
export function fenToInput(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  const n = toBig(fen);
  return `${n / 100n}.${(n % 100n).toString().padStart(2, '0')}`;
}

// "12,345.6" → 1234560 fen; "" → null; anything else (3 decimals, letters, negative) → NaN.
export function parseMoney(text) {
  const v = String(text ?? '').replace(/[,，\s¥￥]/g, '');
  if (v === '') return null;
  const m = /^(\d{1,10})(?:\.(\d{0,2}))?$/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

// quantity × unit price in fen, exactly (BigInt).
export function lineTotal(quantity, unitFen) {
  const q = Number(quantity), p = Number(unitFen);
  if (!Number.isInteger(q) || !Number.isInteger(p) || q < 0 || p < 0) return 0n;
  return BigInt(q) * BigInt(p);
}

function ymd(y, m, d) {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function lastDay(y, m) { // m: 1–12
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

// Date presets in the company zone: {from, to} (both included), or {} for all time.
export const PERIODS = ['this_month', 'last_month', 'this_year', 'all', 'custom'];
export function periodRange(period) {
  const [y, m] = today().split('-').map(Number);
  switch (period) {
    case 'this_month': return { from: ymd(y, m, 1), to: ymd(y, m, lastDay(y, m)) };
    case 'last_month': {
      const py = m === 1 ? y - 1 : y, pm = m === 1 ? 12 : m - 1;
      return { from: ymd(py, pm, 1), to: ymd(py, pm, lastDay(py, pm)) };
    }
    case 'this_year': return { from: ymd(y, 1, 1), to: ymd(y, 12, 31) };
    default: return {};
  }
}
