// What the screens share: the open vault, the note list, the open note and the husk level.
// Screens register a `show` hook; `go(name)` switches screens without reflowing the others.
import { $ } from './dom.js';

export const state = {
  vault: null,          // {root, name}
  notes: [],            // [{path, title, categories}]
  note: null,           // {path, text, saved, blocks}
  level: 'medium',
  screen: 'vault',
};

const screens = {};
const listeners = {};

export function register(name, hooks) { screens[name] = hooks; }

export function go(name) {
  state.screen = name;
  document.querySelectorAll('.screen').forEach((s) => { s.hidden = s.id !== `screen-${name}`; });
  document.querySelectorAll('.nav-item').forEach((b) => b.classList.toggle('active', b.dataset.screen === name));
  const hooks = screens[name];
  if (hooks && hooks.show) hooks.show();
}

export function on(event, f) { (listeners[event] = listeners[event] || []).push(f); }
export function emit(event, data) { (listeners[event] || []).forEach((f) => f(data)); }

export function refreshNav() {
  const open = !!state.vault;
  for (const id of ['nav-note', 'nav-husk', 'nav-export', 'nav-ledger', 'nav-kernel']) $(id).disabled = !open;
}
