// Translation: one table per language (i18n/en.js, i18n/zh.js). Follows the system locale
// (navigator.language) unless the user picked a language, which is remembered locally.
import en from './i18n/en.js';
import zh from './i18n/zh.js';

const TABLES = { en, zh };
const KEY = 'husk.lang';
let lang = 'en';
const listeners = [];

export function systemLang() {
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function preference() {
  try { return localStorage.getItem(KEY) || 'auto'; } catch { return 'auto'; }
}

export function currentLang() { return lang; }

export function t(key, vars) {
  const s = TABLES[lang][key] ?? TABLES.en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`)) : s;
}

// Fill every element marked with data-i18n / data-i18n-placeholder under `root`.
export function translate(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
}

export function setLanguage(pref) {
  try { localStorage.setItem(KEY, pref); } catch { /* private mode: not remembered */ }
  lang = pref === 'auto' ? systemLang() : (TABLES[pref] ? pref : 'en');
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  translate();
  listeners.forEach((f) => f(lang));
}

export function onLanguage(f) { listeners.push(f); }

export function initLanguage() { setLanguage(preference()); }
