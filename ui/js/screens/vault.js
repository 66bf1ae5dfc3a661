// Vault screen: open or create a vault (with progress, and the vault of the last run reopened at
// start), the note tree with per-note category summary, search.
import { api } from '../api.js';
import { $, h, clear, errorText, setProgress } from '../dom.js';
import { t, onLanguage } from '../i18n.js';
import { state, register, emit, on, refreshNav } from '../state.js';
import { CATEGORIES } from '../render.js';

let searchSeq = 0;

export function init() {
  $('vault-open').addEventListener('click', () => choose(api.openVault));
  $('vault-create').addEventListener('click', () => choose(api.createVault));
  $('vault-path').addEventListener('keydown', (e) => { if (e.key === 'Enter') choose(api.openVault); });
  let timer = null;
  $('search-input').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  $('search-input').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { $('search-input').value = ''; search(); }
    if (e.key === 'Enter') { const first = document.querySelector('#search-results .note-item'); if (first) first.click(); }
  });
  onLanguage(() => { renderList(); if ($('search-input').value) search(); showHeader(); renderNotice(); });
  on('note-saved', () => reloadNotes());
  register('vault', { show: () => { showHeader(); if (state.vault) { status(); $('search-input').focus(); } } });
}

// The line under the chooser's buttons says what opening is doing (its space is always kept, so
// nothing moves); the bar runs while the index is built and fills when it is done.
export function openingText(p) {
  if (p.stage === 'classify') return t('open.classify', { n: p.total });
  return t(p.stage === 'done' ? 'open.done' : 'open.index');
}

function opening(p) {
  const bar = $('vault-progress');
  const running = !!p && p.stage !== 'done';
  bar.classList.toggle('indeterminate', running);
  setProgress(bar, p && p.stage === 'done' ? { done: 1, total: 1 } : null);
  bar.dataset.stage = p ? p.stage : '';
  $('vault-error').className = 'error-line';
  $('vault-error').textContent = p ? openingText(p) : '';
  if (p) $('vault-error').classList.add('opening');
  for (const id of ['vault-open', 'vault-create', 'vault-path']) $(id).disabled = running;
}

async function choose(fn) {
  if ($('vault-open').disabled) return;
  notice(null);
  opening({ stage: 'index' });
  try {
    const info = await fn($('vault-path').value, opening);
    opening(null);
    await opened(info);
  } catch (e) {
    opening(null);
    $('vault-error').textContent = errorText(e);
  }
}

// The one-line notice on the chooser when the vault meant for the start did not open; its path
// is put in the folder field, ready to fix, open or create.
let shownNotice = null;

function notice(n) {
  shownNotice = n;
  renderNotice();
  if (n) $('vault-path').value = n.path;
}

function renderNotice() {
  const el = $('vault-notice');
  const n = shownNotice;
  el.hidden = !n;
  el.textContent = '';
  if (!n) return;
  const why = n.error.code === 'not_found' || n.error.code === 'not_a_vault' ? n.error.code : 'other';
  el.textContent = t(`open.${n.source}_${why}`, { path: n.path, message: errorText(n.error) });
  el.title = n.path;
  el.dataset.code = n.error.code;
}

// Open the vault meant for the start (HUSK_VAULT, else the last one), showing progress like a
// vault the user opened; when it cannot be opened, stay on the chooser with a notice.
export async function startup() {
  try {
    const s = await api.openStartupVault(opening);
    opening(null);
    if (s.vault) await opened(s.vault);
    else if (s.notice) notice(s.notice);
  } catch (e) {
    opening(null);
    $('vault-error').textContent = errorText(e);
  }
}

export async function opened(info) {
  state.vault = info;
  $('vault-name').textContent = info.name || info.root;
  $('vault-name').title = info.root;
  $('vault-name').removeAttribute('data-i18n');
  refreshNav();
  showHeader();
  await reloadNotes();
  emit('vault', info);
  // Changes made outside Husk (another editor, a sync tool) show up without a reload.
  let timer = null;
  api.watchVault((c) => {
    clearTimeout(timer);
    timer = setTimeout(() => { reloadNotes(); emit('disk-changed', c); }, 100);
  }).catch(() => { /* the tree still works without live updates */ });
}

function showHeader() {
  $('vault-welcome').hidden = !!state.vault;
  $('vault-view').hidden = !state.vault;
  if (state.vault) $('vault-title').textContent = state.vault.name || state.vault.root;
}

// Calls overlap (opening a vault and showing the screen both ask): only the newest one draws,
// all at once, so the strip never shows an item twice.
let statusSeq = 0;

async function status() {
  const seq = ++statusSeq;
  const items = [];
  try {
    const s = await api.vaultStatus();
    const item = (text, cls) => items.push(h('span', { class: cls || '', text }));
    item(t('vault.status_exports', { n: s.exports }));
    item(t('vault.status_overrides', { n: s.overrides }));
    if (s.changed_since_export.length) item(t('vault.status_changed', { n: s.changed_since_export.length }), 'warn');
    item(t('vault.status_never', { n: s.never_exported }));
    const kernels = await api.listKernels().catch(() => []);
    const when = kernels.length ? new Date(kernels[0].created * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null;
    item(when ? t('vault.status_kernel', { when }) : t('vault.status_no_kernel'), when ? '' : 'warn');
  } catch { /* the status line is informative only */ }
  if (seq === statusSeq) clear($('vault-status')).append(...items);
}

export async function reloadNotes() {
  status();
  try {
    state.notes = await api.listNotes();
  } catch (e) {
    state.notes = [];
    $('vault-error').textContent = errorText(e);
  }
  renderList();
}

function summary(categories) {
  const wrap = h('span', { class: 'cat-summary' });
  const entries = CATEGORIES.filter((c) => categories && categories[c]);
  if (!entries.length) wrap.append(h('span', { class: 'muted small', text: t('vault.unclassified') }));
  for (const c of entries) {
    wrap.append(h('span', { class: `cat-pill cat-${c}`, title: t(`cat.${c}`), dataset: { category: c } }, h('i'), String(categories[c])));
  }
  return wrap;
}

function noteItem(n, snippet) {
  return h('button', { class: 'note-item', 'data-testid': 'note-item', dataset: { path: n.path }, onclick: () => emit('open-note', n.path) },
    h('span', { class: 'note-title', text: n.title }),
    snippet ? h('span', { class: 'note-snippet', text: snippet }) : h('span', { class: 'note-path', text: n.path }),
    summary(n.categories));
}

function renderList() {
  const list = clear($('note-list'));
  $('list-count').textContent = t('vault.count', { n: state.notes.length });
  if (!state.notes.length) { list.append(h('div', { class: 'muted empty', text: t('vault.empty') })); return; }
  const groups = new Map();
  for (const n of state.notes) {
    const i = n.path.lastIndexOf('/');
    const folder = i < 0 ? '' : n.path.slice(0, i);
    if (!groups.has(folder)) groups.set(folder, []);
    groups.get(folder).push(n);
  }
  for (const [folder, notes] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
    list.append(h('div', { class: 'folder', text: folder ? `${folder}/` : t('vault.root') }));
    notes.forEach((n) => list.append(noteItem(n)));
  }
}

export function focusSearch() {
  if (!state.vault) return;
  $('search-input').focus();
  $('search-input').select();
}

async function search() {
  const q = $('search-input').value.trim();
  const seq = ++searchSeq;
  const results = $('search-results');
  if (!q) {
    results.hidden = true; $('note-list').hidden = false;
    $('list-caption').textContent = t('vault.notes');
    $('list-count').textContent = t('vault.count', { n: state.notes.length });
    return;
  }
  try {
    const hits = await api.searchNotes(q);
    if (seq !== searchSeq) return;
    clear(results);
    $('list-caption').textContent = t('vault.results');
    $('list-count').textContent = t('vault.hits', { n: hits.length });
    if (!hits.length) results.append(h('div', { class: 'muted empty', text: t('vault.no_hits', { q }) }));
    for (const hit of hits) {
      const n = state.notes.find((x) => x.path === hit.path) || { path: hit.path, title: hit.path, categories: {} };
      results.append(noteItem(n, hit.snippet));
    }
    results.hidden = false; $('note-list').hidden = true;
  } catch (e) {
    $('vault-error').textContent = errorText(e);
  }
}
