// Entry point: language, screens, navigation and keyboard shortcuts. Starts on HUSK_VAULT or
// the vault that was open last time, else on the vault chooser.
import { $ } from './dom.js';
import { initLanguage, setLanguage, preference, onLanguage } from './i18n.js';
import { state, go, refreshNav } from './state.js';
import * as vault from './screens/vault.js';
import * as note from './screens/note.js';
import * as husk from './screens/husk.js';
import * as exportWizard from './screens/export.js';
import * as ledger from './screens/ledger.js';
import * as kernel from './screens/kernel.js';
import * as settings from './screens/settings.js';

function shortcuts(e) {
  const mod = e.ctrlKey || e.metaKey;
  if (!mod) return;
  const k = e.key.toLowerCase();
  if (k === 's') { e.preventDefault(); note.save(); }
  else if (k === 'f' || k === 'k') { e.preventDefault(); go('vault'); vault.focusSearch(); }
  else if (k === 'e' && state.note) { e.preventDefault(); go(state.screen === 'husk' ? 'note' : 'husk'); }
  else if (['1', '2', '3'].includes(k)) {
    e.preventDefault();
    husk.setLevel(['light', 'medium', 'heavy'][Number(k) - 1]);
    if (state.note && state.screen !== 'husk') go('husk');
  }
}

async function start() {
  initLanguage();
  $('lang-select').value = preference();
  $('lang-select').addEventListener('change', (e) => { setLanguage(e.target.value); $('settings-language').value = e.target.value; });
  onLanguage(() => { if (!state.vault) $('vault-name').setAttribute('data-i18n', 'vault.none'); });
  for (const m of [vault, note, husk, exportWizard, ledger, kernel, settings]) m.init();
  document.querySelectorAll('.nav-item').forEach((b) => b.addEventListener('click', () => go(b.dataset.screen)));
  document.addEventListener('keydown', shortcuts);
  refreshNav();
  go('vault');
  await vault.startup();
  go('vault');
  document.body.dataset.ready = 'true';
}

start();
