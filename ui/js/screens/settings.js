// Settings: vault folder, backup folder, recipients, retention and language.
import { api } from '../api.js';
import { $, errorText } from '../dom.js';
import { t, setLanguage, preference } from '../i18n.js';
import { state, register } from '../state.js';
import { opened, openingText } from './vault.js';

export function init() {
  $('settings-save').addEventListener('click', save);
  $('settings-vault-open').addEventListener('click', openOther);
  $('settings-language').addEventListener('change', (e) => { setLanguage(e.target.value); $('lang-select').value = e.target.value; });
  register('settings', { show: load });
}

async function load() {
  $('settings-language').value = preference();
  $('settings-status').textContent = '';
  $('settings-error').textContent = '';
  $('settings-vault').value = state.vault ? state.vault.root : '';
  if (!state.vault) return;
  try {
    const s = await api.readSettings();
    $('settings-backup-dir').value = s.backup_dir || '';
    $('settings-recipients').value = (s.recipients || []).join('\n');
    $('settings-identity').value = s.identity || '';
    $('settings-retention').value = String(s.keep_last ?? 10);
  } catch (e) {
    $('settings-error').textContent = errorText(e);
  }
}

async function openOther() {
  $('settings-error').textContent = '';
  $('settings-vault-open').disabled = true;
  try {
    const info = await api.openVault($('settings-vault').value, (p) => { $('settings-vault-status').textContent = openingText(p); });
    await opened(info);
    await load();
  } catch (e) {
    $('settings-error').textContent = errorText(e);
  } finally {
    $('settings-vault-status').textContent = t('settings.vault_hint');
    $('settings-vault-open').disabled = false;
  }
}

async function save() {
  $('settings-error').textContent = '';
  const settings = {
    backup_dir: $('settings-backup-dir').value.trim(),
    recipients: $('settings-recipients').value.split('\n').map((s) => s.trim()).filter(Boolean),
    identity: $('settings-identity').value.trim(),
    keep_last: Math.max(1, parseInt($('settings-retention').value, 10) || 10),
  };
  try {
    await api.saveSettings(settings);
    $('settings-status').textContent = t('settings.saved');
  } catch (e) {
    $('settings-error').textContent = errorText(e);
  }
}
