// Kernel: back up now (progress bar, then the verify result), the list of kernels, the restore
// wizard (file, key or passphrase, target, progress, result) and key generation with a warning.
import { api } from '../api.js';
import { $, h, clear, errorText, setProgress, formatBytes } from '../dom.js';
import { t } from '../i18n.js';
import { register } from '../state.js';

export function init() {
  $('kernel-backup').addEventListener('click', backup);
  $('restore-run').addEventListener('click', restore);
  $('keygen-run').addEventListener('click', keygen);
  for (const id of ['restore-mode-key', 'restore-mode-pass']) $(id).addEventListener('change', mode);
  register('kernel', { show: list });
  mode();
}

function mode() {
  const key = $('restore-mode-key').checked;
  $('restore-identity-field').hidden = !key;
  $('restore-pass-field').hidden = key;
}

function result(id, kind, text) {
  const el = $(id);
  el.className = `result ${kind}`;
  el.textContent = text;
}

async function list() {
  const body = clear($('kernel-list').querySelector('tbody'));
  try {
    const ks = await api.listKernels();
    if (!ks.length) body.append(h('tr', {}, h('td', { colspan: '3', class: 'muted', text: t('kernel.none') })));
    for (const k of ks) {
      body.append(h('tr', { 'data-testid': 'kernel-row', title: k.path },
        h('td', { text: k.created }), h('td', { text: formatBytes(k.size) }),
        h('td', { class: k.verified ? 'ok' : 'muted', text: k.verified ? t('kernel.yes') : t('kernel.no') })));
    }
  } catch (e) {
    body.append(h('tr', {}, h('td', { colspan: '3', class: 'muted', text: errorText(e) })));
  }
}

async function backup() {
  const btn = $('kernel-backup');
  btn.disabled = true;
  result('kernel-backup-result', '', '');
  setProgress($('kernel-progress'), null);
  try {
    const r = await api.backupKernel((p) => {
      setProgress($('kernel-progress'), p);
      result('kernel-backup-result', '', t(`stage.${p.stage}`));
    });
    setProgress($('kernel-progress'), { done: 1, total: 1 });
    result('kernel-backup-result', r.verified ? 'ok' : 'warn', t(r.verified ? 'kernel.backup_done' : 'kernel.backup_unverified', { path: r.path }));
    await list();
  } catch (e) {
    result('kernel-backup-result', 'bad', errorText(e));
  } finally {
    btn.disabled = false;
  }
}

async function restore() {
  const key = $('restore-mode-key').checked;
  const request = {
    kernel: $('restore-kernel').value.trim(),
    to: $('restore-to').value.trim(),
    identity: key ? $('restore-identity').value.trim() : null,
    passphrase: key ? null : $('restore-passphrase').value,
  };
  if (!request.kernel || !request.to || !(request.identity || request.passphrase)) {
    result('restore-result', 'bad', t('kernel.restore_need'));
    return;
  }
  $('restore-run').disabled = true;
  setProgress($('restore-progress'), null);
  result('restore-result', '', '');
  try {
    const r = await api.restoreKernel(request, (p) => setProgress($('restore-progress'), p));
    setProgress($('restore-progress'), { done: 1, total: 1 });
    result('restore-result', 'ok', t('kernel.restore_done', { n: r.files, dir: r.dir }));
  } catch (e) {
    setProgress($('restore-progress'), null);
    result('restore-result', 'bad', errorText(e));
  } finally {
    $('restore-run').disabled = false;
    $('restore-passphrase').value = '';
  }
}

async function keygen() {
  if (!$('keygen-ack').checked) { result('keygen-result', 'bad', t('kernel.keygen_need_ack')); return; }
  try {
    const recipient = await api.generateKey($('keygen-output').value.trim());
    const el = clear($('keygen-result'));
    el.className = 'result ok';
    el.append(h('div', { text: t('kernel.keygen_done') }), h('code', { class: 'recipient', 'data-testid': 'keygen-recipient', text: recipient }));
  } catch (e) {
    result('keygen-result', 'bad', errorText(e));
  }
}
