// Formatting and parsing of what the API sends: money in integer fen, energy in integer Wh, RFC 3339
// times in the station's zone. No amount of money ever passes through a floating-point number:
// Intl.NumberFormat is given the exact decimal text ("12.34").
import { lang } from './i18n.js';

const moneyFormats = new Map();
function moneyFormat() {
  const l = lang();
  if (!moneyFormats.has(l)) {
    moneyFormats.set(l, new Intl.NumberFormat(l, { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol', minimumFractionDigits: 2 }));
  }
  return moneyFormats.get(l);
}

// Integer fen as exact decimal yuan text: 1234 -> "12.34", -5 -> "-0.05".
export function fenToYuanText(fen) {
  const n = BigInt(Math.trunc(Number(fen)));
  const neg = n < 0n;
  const abs = neg ? -n : n;
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

// ¥12.34 (Intl.NumberFormat of the current language); '—' when there is no amount.
export function fmtMoney(fen) {
  if (fen === null || fen === undefined || fen === '') return '—';
  return moneyFormat().format(fenToYuanText(fen));
}

// Yuan typed by staff or a rider ("12", "12.3", "12.34") as integer fen; null when it is not an
// amount (negative, more than two decimals, not a number, above 100 million yuan).
export function parseYuan(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{0,2}))?\s*$/.exec(String(text ?? ''));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

// Wh as kWh with two decimals: 12345 -> "12.34 kWh" (truncated, integer arithmetic).
export function fmtEnergy(wh) {
  if (wh === null || wh === undefined) return '—';
  const n = Math.trunc(Number(wh));
  const abs = Math.abs(n);
  return `${n < 0 ? '-' : ''}${Math.trunc(abs / 1000)}.${String(Math.trunc((abs % 1000) / 10)).padStart(2, '0')} kWh`;
}

// Watts: 950 -> "950 W", 7400 -> "7.4 kW".
export function fmtPower(w) {
  if (w === null || w === undefined) return '—';
  const n = Math.round(Number(w));
  if (Math.abs(n) < 1000) return `${n} W`;
  return `${Math.trunc(n / 1000)}.${Math.trunc(Math.abs(n % 1000) / 100)} kW`;
}

// An RFC 3339 time as the API sent it, in the station's zone: "2024-11-21 10:00:00".
export function fmtTime(iso) {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : String(iso);
}

// Only the date part: "2024-11-21".
export function fmtDate(iso) {
  return iso ? String(iso).slice(0, 10) : '—';
}

// Seconds as h:mm:ss.
export function fmtDuration(s) {
  if (s === null || s === undefined) return '—';
  const n = Math.max(0, Math.trunc(Number(s)));
  const h = Math.trunc(n / 3600);
  const m = Math.trunc((n % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`;
}

// A local date (YYYY-MM-DD) `days` before today in the browser's calendar, for date filters.
export function isoDay(daysAgo = 0) {
  const d = new Date(Date.now() - daysAgo * 86400000);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
