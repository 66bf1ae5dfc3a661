// The one module that talks to the backend. Every other module calls these functions and gets
// plain data back, or an ApiError with a stable `code` (see src-tauri/src/error.rs).

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function core() {
  const c = window.__TAURI__ && window.__TAURI__.core;
  if (!c) throw new ApiError('unavailable', 'The Husk backend is not reachable.');
  return c;
}

async function call(cmd, args) {
  try {
    return await core().invoke(cmd, args || {});
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e && typeof e === 'object' && 'code' in e) throw new ApiError(e.code, e.message || '');
    throw new ApiError('io', String(e));
  }
}

// A Channel that forwards each progress message {stage, done, total} to `onProgress`.
function progressChannel(onProgress) {
  const ch = new (core().Channel)();
  ch.onmessage = (m) => { if (onProgress) onProgress(m); };
  return ch;
}

export const api = {
  currentVault: () => call('current_vault'),
  // Opening can take seconds for a large vault: progress is {stage: 'index' | 'classify' | 'done'}.
  openVault: (path, onProgress) => call('open_vault', { path, progress: progressChannel(onProgress) }),
  createVault: (path, onProgress) => call('create_vault', { path, progress: progressChannel(onProgress) }),
  // The vault to start on (HUSK_VAULT, else the last one): {vault, notice: {source, path, error}}.
  openStartupVault: (onProgress) => call('open_startup_vault', { progress: progressChannel(onProgress) }),
  listNotes: () => call('list_notes'),
  vaultStatus: () => call('vault_status'),
  searchNotes: (query) => call('search_notes', { query }),
  // `onChange({paths, rescanned})` runs after each settled batch of changes on disk.
  watchVault: (onChange) => {
    const ch = new (core().Channel)();
    ch.onmessage = (m) => onChange(m);
    return call('watch_vault', { changes: ch });
  },

  readNote: (path) => call('read_note', { path }),
  saveNote: (path, text) => call('save_note', { path, text }),
  classifyText: (path, text) => call('classify_text', { path, text }),
  setOverride: (path, fingerprint, choice) => call('set_override', { path, fingerprint, choice }),

  previewHusk: (path, text, level) => call('preview_husk', { path, text, level }),

  exportHusk: (request, onProgress) => call('export_husk', { request, progress: progressChannel(onProgress) }),
  listLedger: () => call('list_ledger'),
  verifyLedger: (id, dir) => call('verify_ledger', { id, dir }),

  backupKernel: (onProgress) => call('backup_kernel', { progress: progressChannel(onProgress) }),
  backupKernelPassphrase: (passphrase, confirm, onProgress) => call('backup_kernel_passphrase', { passphrase: { passphrase, confirm }, progress: progressChannel(onProgress) }),
  listKernels: () => call('list_kernels'),
  verifyKernel: (kernel, identity, passphrase, onProgress) => call('verify_kernel', { kernel, identity, passphrase, progress: progressChannel(onProgress) }),
  restoreKernel: (request, onProgress) => call('restore_kernel', { request, progress: progressChannel(onProgress) }),
  generateKey: (output) => call('generate_key', { output }),

  readSettings: () => call('read_settings'),
  saveSettings: (settings) => call('save_settings', { settings }),
};
