// Ledger: the list of exports, one entry's details (notes, terms, files and hashes, withheld
// spans count), and verifying a folder against an entry.
import { api } from '../api.js';
import { $, h, clear, errorText } from '../dom.js';
import { t, onLanguage } from '../i18n.js';
import { register } from '../state.js';

let entries = [];
let current = null;

export function init() {
  $('ledger-refresh').addEventListener('click', load);
  $('ledger-verify').addEventListener('click', verify);
  onLanguage(() => { table(); detail(); });
  register('ledger', { show: load });
}

// RFC 3339 UTC, shown as `YYYY-MM-DD HH:MM UTC`.
const when = (s) => (s || '').replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');

async function load() {
  try {
    entries = await api.listLedger();
    $('ledger-verify-result').textContent = '';
  } catch (e) {
    entries = [];
    $('ledger-verify-result').textContent = errorText(e);
  }
  table();
  detail();
}

function table() {
  const body = clear($('ledger-table').querySelector('tbody'));
  $('ledger-empty').hidden = entries.length > 0;
  for (const e of entries) {
    const tr = h('tr', { class: current && current.id === e.id ? 'selected' : '', 'data-testid': 'ledger-row', dataset: { id: e.id }, onclick: () => { current = e; table(); detail(); } },
      h('td', { text: when(e.created) }), h('td', { text: e.recipient || '—' }), h('td', { text: t(`level.${e.level}`) }), h('td', { text: String(e.files.length) }));
    body.append(tr);
  }
}

function detail() {
  const el = clear($('ledger-detail'));
  if (!current) { el.className = 'muted'; el.textContent = t('ledger.pick'); return; }
  el.className = '';
  const e = current;
  el.append(h('h2', { text: `${when(e.created)} · ${e.format} · ${t(`level.${e.level}`)}` }));
  el.append(h('h3', { text: t('ledger.detail_notes') }), h('ul', {}, e.notes.map((n) => h('li', { text: n }))));
  el.append(h('h3', { text: t('ledger.detail_terms') }),
    h('dl', { class: 'terms' },
      h('dt', { text: t('export.recipient') }), h('dd', { text: e.recipient || '—' }),
      h('dt', { text: t('export.scope') }), h('dd', { text: e.scope || '—' }),
      h('dt', { text: t('export.until') }), h('dd', { text: e.until || '—' }),
      h('dt', { text: t('export.manner') }), h('dd', { text: e.manner || '—' })));
  el.append(h('h3', { text: t('ledger.detail_files') }),
    h('ul', { class: 'files' }, e.files.map((f) => h('li', {}, h('code', { text: f.path }), h('span', { class: 'muted small hash', text: f.sha256 })))));
  el.append(h('p', { class: 'muted', text: t('ledger.withheld', { n: e.withheld }) }));
}

async function verify() {
  const out = $('ledger-verify-result');
  if (!current) { out.textContent = t('ledger.pick'); return; }
  try {
    const r = await api.verifyLedger(current.id, $('ledger-verify-dir').value.trim());
    out.className = `result ${r.ok ? 'ok' : 'bad'}`;
    out.textContent = r.ok ? t('ledger.verify_ok') : t('ledger.verify_bad', { n: r.changed.length + r.missing.length + r.extra.length });
  } catch (e) {
    out.className = 'result bad';
    out.textContent = errorText(e);
  }
}
