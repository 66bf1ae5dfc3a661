// Note screen: the markdown source in an editor (saved atomically by the backend), a preview with
// every block tinted by category plus a legend, and an inspector that shows the rule that fired
// and stores a keep / hollow / private / auto override.
import { api } from '../api.js';
import { $, h, clear, errorText, toast } from '../dom.js';
import { t, onLanguage } from '../i18n.js';
import { state, register, go, on, emit } from '../state.js';
import { renderTinted, CATEGORIES } from '../render.js';

let selected = null;     // fingerprint of the selected block
let classifyTimer = null;

export function init() {
  $('note-save').addEventListener('click', save);
  $('note-to-husk').addEventListener('click', () => go('husk'));
  $('note-editor').addEventListener('input', () => {
    if (!state.note) return;
    state.note.text = $('note-editor').value;
    state.note.saved = false;
    status();
    clearTimeout(classifyTimer);
    classifyTimer = setTimeout(classify, 400);
  });
  document.querySelectorAll('#inspector [data-choice]').forEach((b) => b.addEventListener('click', () => override(b.dataset.choice)));
  on('open-note', open);
  on('disk-changed', async (c) => {
    // Reload the open note when it changed on disk and has no unsaved edits here.
    if (!state.note || !state.note.saved || !(c.rescanned || c.paths.includes(state.note.path))) return;
    try {
      const text = await api.readNote(state.note.path);
      if (text !== state.note.text && state.note.saved) {
        state.note.text = text;
        $('note-editor').value = text;
        await classify();
      }
    } catch { /* deleted or unreadable: keep what is shown */ }
  });
  onLanguage(() => { legend(); status(); preview(); inspect(); });
  register('note', { show: () => { if (!state.note) $('note-title').textContent = t('note.none'); } });
  legend();
}

function legend() {
  const el = clear($('legend'));
  for (const c of CATEGORIES) el.append(h('span', { class: `legend-item cat-${c}` }, h('i'), t(`cat.${c}`)));
}

function status() {
  const el = $('note-status');
  if (!state.note) { el.textContent = ''; return; }
  el.textContent = state.note.saved ? t('note.saved') : t('note.unsaved');
  el.classList.toggle('dirty', !state.note.saved);
}

async function open(path) {
  try {
    const text = await api.readNote(path);
    const meta = state.notes.find((n) => n.path === path);
    state.note = { path, text, saved: true, blocks: [], title: meta ? meta.title : path };
    selected = null;
    $('note-title').textContent = state.note.title;
    $('note-title').removeAttribute('data-i18n');
    $('note-editor').value = text;
    status();
    go('note');
    await classify();
    emit('note-opened', path);
  } catch (e) {
    toast(errorText(e), 'error');
  }
}

export async function classify() {
  if (!state.note) return;
  try {
    state.note.blocks = await api.classifyText(state.note.path, state.note.text);
  } catch (e) {
    toast(errorText(e), 'error');
  }
  preview();
  inspect();
}

function preview() {
  const el = $('note-preview');
  if (!state.note) { clear(el); return; }
  renderTinted(el, state.note.text, state.note.blocks, {
    classFor: (b) => [b.fingerprint === selected ? 'selected' : '', b.forced ? `forced forced-${b.forced}` : ''].join(' '),
    onClick: (b) => { selected = b.fingerprint; preview(); inspect(); },
  });
  if (!state.note.blocks.length) el.append(h('div', { class: 'muted empty', text: t('note.no_blocks') }));
}

function inspect() {
  const b = state.note && state.note.blocks.find((x) => x.fingerprint === selected);
  $('inspector-empty').hidden = !!b;
  $('inspector-body').hidden = !b;
  if (!b) return;
  const cat = $('insp-category');
  cat.className = `chip cat-${b.category}`;
  cat.textContent = t(`cat.${b.category}`);
  $('insp-where').textContent = t('note.where', { line: b.line, column: b.column, kind: b.kind.type });
  $('insp-rule').textContent = b.rule;
  const [l, m, hv] = b.actions.map((a) => t(`act.${a}`));
  $('insp-actions').textContent = t('note.actions', { light: l, medium: m, heavy: hv }) + (b.forced ? ` · ${t('note.forced', { forced: t(`choice.${b.forced}`) })}` : '');
  const current = b.forced || 'auto';
  document.querySelectorAll('#inspector [data-choice]').forEach((btn) => btn.classList.toggle('on', btn.dataset.choice === current));
}

async function override(choice) {
  const b = state.note && state.note.blocks.find((x) => x.fingerprint === selected);
  if (!b) return;
  try {
    await api.setOverride(state.note.path, b.fingerprint, choice);
    await classify();
    emit('note-saved', state.note.path);
  } catch (e) {
    toast(errorText(e), 'error');
  }
}

export async function save() {
  if (!state.note) return;
  $('note-status').textContent = t('note.saving');
  try {
    await api.saveNote(state.note.path, state.note.text);
    state.note.saved = true;
    emit('note-saved', state.note.path);
  } catch (e) {
    toast(errorText(e), 'error');
  }
  status();
}
