// Export wizard: notes → format and level → recipient and terms → target folder → summary with
// the files written and the ledger entry.
import { api } from '../api.js';
import { $, h, clear, errorText, setProgress } from '../dom.js';
import { t, onLanguage } from '../i18n.js';
import { state, register, on } from '../state.js';

const LAST = 5;
let step = 1;
let result = null;

export function init() {
  $('export-next').addEventListener('click', () => { if (validate()) show(step + 1); });
  $('export-back').addEventListener('click', () => show(step - 1));
  $('export-run').addEventListener('click', run);
  // A fixed field clears its complaint.
  document.querySelector('#screen-export .wizard').addEventListener('input', () => { $('export-error').textContent = ''; });
  document.querySelector('#screen-export .wizard').addEventListener('change', () => { $('export-error').textContent = ''; });
  $('export-again').addEventListener('click', () => { result = null; setProgress($('export-progress'), null); show(1); });
  on('vault', () => { fillNotes(); show(1); });
  on('note-opened', (path) => { if (!result) fillNotes(path); });
  onLanguage(() => { if (result) summary(); });
  register('export', { show: () => show(step) });
}

function fillNotes(preselect) {
  const list = clear($('export-notes'));
  for (const n of state.notes) {
    const id = `exp-${n.path}`;
    list.append(h('label', { class: 'check-item' },
      h('input', { type: 'checkbox', value: n.path, id, checked: preselect ? n.path === preselect : false }),
      h('span', { class: 'note-title', text: n.title }), h('span', { class: 'note-path', text: n.path })));
  }
}

function chosen() {
  return [...document.querySelectorAll('#export-notes input:checked')].map((i) => i.value);
}

function validate() {
  $('export-error').textContent = '';
  let msg = '';
  if (step === 1 && !chosen().length) msg = t('export.need_notes');
  if (step === 3 && !$('export-recipient').value.trim()) msg = t('export.need_recipient');
  if (step === 4 && !$('export-to').value.trim()) msg = t('export.need_to');
  $('export-error').textContent = msg;
  return !msg;
}

function show(n) {
  step = Math.max(1, Math.min(LAST, n));
  document.querySelectorAll('#screen-export .step').forEach((s) => { s.hidden = Number(s.dataset.step) !== step; });
  document.querySelectorAll('#export-steps li').forEach((li) => {
    const k = Number(li.dataset.step);
    li.classList.toggle('current', k === step);
    li.classList.toggle('done', k < step);
  });
  $('export-back').hidden = step === 1 || step === LAST;
  $('export-next').hidden = step >= 4;
  $('export-run').hidden = step !== 4;
  $('export-again').hidden = step !== LAST;
}

async function run() {
  if (!validate()) return;
  const request = {
    notes: chosen(),
    level: $('export-level').value,
    format: $('export-format').value,
    to: $('export-to').value.trim(),
    recipient: $('export-recipient').value.trim(),
    scope: $('export-scope').value.trim(),
    until: $('export-until').value,
    manner: $('export-manner').value.trim(),
  };
  $('export-run').disabled = true;
  try {
    result = await api.exportHusk(request, (p) => setProgress($('export-progress'), p));
    setProgress($('export-progress'), { done: 1, total: 1 });
    summary();
    show(LAST);
  } catch (e) {
    $('export-error').textContent = errorText(e);
  } finally {
    $('export-run').disabled = false;
  }
}

function summary() {
  const el = clear($('export-summary'));
  el.append(h('p', { class: 'ok', text: t('export.done', { n: result.files.length, dir: result.to }) }));
  el.append(h('p', { 'data-testid': 'export-ledger-id', dataset: { id: result.id }, text: t('export.ledger_id', { id: result.id }) }));
  el.append(h('p', { class: 'muted', text: `${result.format} · ${t(`level.${result.level}`)} · ${result.recipient || '—'}` }));
  const ul = h('ul', { class: 'files' });
  for (const f of result.files) ul.append(h('li', {}, h('code', { text: f.path }), h('span', { class: 'muted small hash', text: f.sha256.slice(0, 16) })));
  el.append(ul);
}
