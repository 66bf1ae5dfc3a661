// Kernel: back up now, to the recipients in Settings or with a passphrase typed twice (progress
// bar, then the verify result), the list of kernels, the restore wizard (file, key or
// passphrase, target, progress, result, plus verify-only) and key generation with a plain
// warning.
import { api } from '../api.js';
import { $, h, clear, errorText, setProgress, formatBytes } from '../dom.js';
import { t, onLanguage } from '../i18n.js';
import { state, register } from '../state.js';

// Each stage's share of the whole bar, so it only ever moves forward.
const BACKUP = { scan: [0, 0.2], snapshot: [0.2, 0.25], encrypt: [0.25, 0.75], verify: [0.75, 1] };
const RESTORE = { decrypt: [0, 1], verify: [0, 1] };

function overall(weights, p) {
  const [a, b] = weights[p.stage] || [0, 0];
  const f = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  return { done: Math.round((a + (b - a) * f) * 1000), total: 1000 };
}

const when = (secs) => new Date(secs * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

export function init() {
  $('kernel-backup').addEventListener('click', backup);
  $('restore-run').addEventListener('click', restore);
  $('restore-verify').addEventListener('click', verify);
  $('keygen-run').addEventListener('click', keygen);
  for (const id of ['restore-mode-key', 'restore-mode-pass']) $(id).addEventListener('change', mode);
  for (const id of ['backup-mode-recipients', 'backup-mode-pass']) $(id).addEventListener('change', backupMode);
  register('kernel', { show: list });
  onLanguage(() => { if (state.screen === 'kernel') list(); });
  mode();
  backupMode();
}

// Back up to the recipients in Settings, or with a passphrase typed twice (cleared after use).
function backupMode() {
  const pass = $('backup-mode-pass').checked;
  $('backup-help-recipients').hidden = pass;
  $('backup-pass-fields').hidden = !pass;
  if (!pass) clearPassphrases();
}

function clearPassphrases() {
  $('backup-passphrase').value = '';
  $('backup-passphrase-again').value = '';
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
      body.append(h('tr', { 'data-testid': 'kernel-row', title: k.path, dataset: { path: k.path }, onclick: () => { $('restore-kernel').value = k.path; } },
        h('td', { text: when(k.created) }), h('td', { text: formatBytes(k.size) }),
        h('td', { class: k.verified ? 'ok' : 'muted', text: k.verified ? t('kernel.yes') : t('kernel.no') })));
    }
  } catch (e) {
    body.append(h('tr', {}, h('td', { colspan: '3', class: 'muted', text: errorText(e) })));
  }
}

async function backup() {
  const btn = $('kernel-backup');
  const pass = $('backup-mode-pass').checked;
  result('kernel-backup-result', '', '');
  setProgress($('kernel-progress'), null);
  if (pass) {
    const [a, b] = [$('backup-passphrase').value, $('backup-passphrase-again').value];
    const wrong = !a ? 'kernel.pass_empty' : (a !== b ? 'kernel.pass_mismatch' : null);
    if (wrong) {
      $('backup-passphrase-again').value = '';
      result('kernel-backup-result', 'bad', t(wrong));
      return;
    }
  }
  btn.disabled = true;
  const onProgress = (p) => {
    setProgress($('kernel-progress'), overall(BACKUP, p));
    result('kernel-backup-result', '', t(`stage.${p.stage}`));
  };
  try {
    const r = pass
      ? await api.backupKernelPassphrase($('backup-passphrase').value, $('backup-passphrase-again').value, onProgress)
      : await api.backupKernel(onProgress);
    setProgress($('kernel-progress'), { done: 1, total: 1 });
    const el = $('kernel-backup-result');
    el.className = `result ${r.verified ? 'ok' : 'warn'}`;
    el.textContent = t(r.verified ? 'kernel.backup_done' : 'kernel.backup_unverified', { path: r.path });
    el.dataset.path = r.path;
    await list();
  } catch (e) {
    setProgress($('kernel-progress'), null);
    result('kernel-backup-result', 'bad', e.code === 'invalid_input' && /recipients/.test(e.message) ? t('kernel.need_folder') : errorText(e));
  } finally {
    btn.disabled = false;
    clearPassphrases();
  }
}

function keyFields() {
  const key = $('restore-mode-key').checked;
  return {
    kernel: $('restore-kernel').value.trim(),
    identity: key ? $('restore-identity').value.trim() : null,
    passphrase: key ? null : $('restore-passphrase').value,
  };
}

async function restore() {
  const request = { ...keyFields(), to: $('restore-to').value.trim() };
  if (!request.kernel || !request.to || !(request.identity || request.passphrase)) {
    result('restore-result', 'bad', t('kernel.restore_need'));
    return;
  }
  $('restore-run').disabled = true;
  setProgress($('restore-progress'), null);
  result('restore-result', '', '');
  try {
    const r = await api.restoreKernel(request, (p) => setProgress($('restore-progress'), overall(RESTORE, p)));
    setProgress($('restore-progress'), { done: 1, total: 1 });
    result('restore-result', 'ok', t('kernel.restore_done', { n: r.files, dir: r.target }));
  } catch (e) {
    setProgress($('restore-progress'), null);
    result('restore-result', 'bad', errorText(e));
  } finally {
    $('restore-run').disabled = false;
    $('restore-passphrase').value = '';
  }
}

async function verify() {
  const k = keyFields();
  if (!k.kernel || !(k.identity || k.passphrase)) { result('restore-result', 'bad', t('kernel.restore_need')); return; }
  setProgress($('restore-progress'), null);
  try {
    const r = await api.verifyKernel(k.kernel, k.identity, k.passphrase, (p) => setProgress($('restore-progress'), overall(RESTORE, p)));
    setProgress($('restore-progress'), { done: 1, total: 1 });
    result('restore-result', 'ok', t('kernel.verify_done', { n: r.files }));
  } catch (e) {
    setProgress($('restore-progress'), null);
    result('restore-result', 'bad', errorText(e));
  }
}

async function keygen() {
  if (!$('keygen-ack').checked) { result('keygen-result', 'bad', t('kernel.keygen_need_ack')); return; }
  const output = $('keygen-output').value.trim();
  try {
    const recipient = await api.generateKey(output);
    const el = clear($('keygen-result'));
    el.className = 'result ok';
    const use = h('button', { class: 'btn', id: 'keygen-use', text: t('kernel.keygen_use') });
    use.addEventListener('click', async () => {
      try {
        const s = await api.readSettings();
        if (!s.recipients.includes(recipient)) s.recipients.push(recipient);
        s.identity = output;
        await api.saveSettings(s);
        use.replaceWith(h('div', { class: 'small', text: t('kernel.keygen_used') }));
      } catch (e) {
        use.replaceWith(h('div', { class: 'bad small', text: errorText(e) }));
      }
    });
    el.append(h('div', { text: t('kernel.keygen_done') }), h('code', { class: 'recipient', 'data-testid': 'keygen-recipient', text: recipient }), use);
  } catch (e) {
    result('keygen-result', 'bad', errorText(e));
  }
}
