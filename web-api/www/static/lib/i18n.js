// Strings: one dictionary per language (static/i18n/<lang>.js), zh-CN first, English beside it.
// t('area.key', {name: 'x'}) looks the key up in the current language, then in zh-CN, and shows
// the key itself when neither has it (a test can see a missing string). {name} is replaced.
import zhCN from '../i18n/zh-CN.js';
import en from '../i18n/en.js';
import { useEffect, useState } from './preact.js';

export const LANGS = [
  { code: 'zh-CN', label: '中文', dict: zhCN },
  { code: 'en', label: 'English', dict: en },
];
const STORAGE_KEY = 'pilehub.lang';
const listeners = new Set();

function initialLang() {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  return LANGS.some((l) => l.code === saved) ? saved : 'zh-CN';
}

let current = initialLang();
document.documentElement.lang = current;

export function lang() {
  return current;
}

export function setLang(code) {
  if (!LANGS.some((l) => l.code === code) || code === current) return;
  current = code;
  localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
  for (const f of listeners) f(code);
}

function lookup(dict, key) {
  let v = dict;
  for (const part of key.split('.')) {
    if (v == null || typeof v !== 'object') return undefined;
    v = v[part];
  }
  return typeof v === 'string' ? v : undefined;
}

export function t(key, vars) {
  const dict = LANGS.find((l) => l.code === current).dict;
  let s = lookup(dict, key) ?? lookup(zhCN, key) ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return s;
}

// Whether a key exists (for optional labels such as an error code's text).
export function has(key) {
  return lookup(LANGS.find((l) => l.code === current).dict, key) !== undefined;
}

// Re-renders the calling component when the language changes; returns the current one.
export function useLang() {
  const [l, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    return () => listeners.delete(set);
  }, []);
  return l;
}
