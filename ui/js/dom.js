// Small DOM helpers. Text always goes in through textContent, never innerHTML, so note text can
// never become markup.
import { t } from './i18n.js';

export const $ = (id) => document.getElementById(id);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// A user-facing sentence for an ApiError, from the translation table by its stable code.
export function errorText(e) {
  const code = e && e.code ? e.code : 'io';
  const key = `err.${code}`;
  const s = t(key, { message: (e && e.message) || '' });
  return s === key ? String((e && e.message) || e) : s;
}

let toastTimer = null;
export function toast(message, kind = 'info') {
  const el = $('toast');
  el.textContent = message;
  el.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 4000);
}

export function setProgress(el, p) {
  const bar = el.querySelector('.bar');
  const pct = p && p.total > 0 ? Math.min(100, Math.round((p.done / p.total) * 100)) : 0;
  bar.style.width = `${pct}%`;
  el.dataset.value = String(pct);
  el.classList.toggle('active', pct > 0);
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
