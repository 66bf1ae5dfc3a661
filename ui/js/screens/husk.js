// Husk preview: a level switch, the original and the husk side by side, aligned section by
// section (headings are never hollowed, so they anchor the rows), changed blocks highlighted,
// with the retention figure, the leak-gate result and a headings completeness check.
import { api } from '../api.js';
import { $, h, clear, errorText } from '../dom.js';
import { t, onLanguage } from '../i18n.js';
import { state, register } from '../state.js';
import { renderTinted } from '../render.js';
import { ByteText, headings } from '../text.js';

let seq = 0;
let last = null;

export function init() {
  document.querySelectorAll('#level-switch [data-level]').forEach((b) => b.addEventListener('click', () => setLevel(b.dataset.level)));
  onLanguage(() => draw());
  register('husk', { show: refresh });
  marks();
}

function marks() {
  document.querySelectorAll('#level-switch [data-level]').forEach((b) => b.classList.toggle('on', b.dataset.level === state.level));
}

export function setLevel(level) {
  state.level = level;
  marks();
  if (state.screen === 'husk') refresh();
}

async function refresh() {
  marks();
  if (!state.note) { last = null; draw(); return; }
  $('husk-title').textContent = state.note.title;
  $('husk-title').removeAttribute('data-i18n');
  const my = ++seq;
  try {
    const p = await api.previewHusk(state.note.path, state.note.text, state.level);
    if (my !== seq) return;
    last = { preview: p, text: state.note.text, error: null };
  } catch (e) {
    if (my !== seq) return;
    last = { preview: null, text: state.note.text, error: e };
  }
  draw();
}

// Split a document into sections: [{heading, start, end}] where start..end is the body, without
// the blank lines around it (so rows stay compact and aligned).
function sections(bt) {
  const hs = headings(bt);
  const ws = (i) => bt.bytes[i] === 10 || bt.bytes[i] === 13 || bt.bytes[i] === 32;
  const trim = (s) => {
    while (s.start < s.end && ws(s.start)) s.start++;
    while (s.end > s.start && ws(s.end - 1)) s.end--;
    return s;
  };
  const out = [trim({ heading: null, start: 0, end: hs.length ? hs[0].start : bt.length })];
  hs.forEach((hd, i) => out.push(trim({ heading: hd, start: hd.end, end: i + 1 < hs.length ? hs[i + 1].start : bt.length })));
  return out;
}

function draw() {
  const grid = clear($('husk-grid'));
  const facts = { ret: '–', changed: '–', gate: '–', complete: '–' };
  $('husk-gate').className = '';
  if (!last) {
    grid.append(h('div', { class: 'muted empty span2', text: t('note.pick_first') }));
  } else if (last.error) {
    const msg = last.error.code === 'private_note' ? t('husk.private_note') : errorText(last.error);
    grid.append(h('div', { class: 'notice span2', 'data-testid': 'husk-error', text: msg }));
  } else {
    const p = last.preview;
    facts.ret = `${Math.round(p.retention * 100)}%`;
    const changed = p.blocks.filter((b) => b.action !== 'keep');
    facts.changed = `${changed.length} / ${p.blocks.length}`;
    facts.gate = p.gate.passed ? t('husk.gate_pass') : t('husk.gate_fail');
    $('husk-gate').className = p.gate.passed ? 'ok' : 'bad';
    const ob = new ByteText(last.text);
    const hb = new ByteText(p.husk);
    const os = sections(ob);
    const hsec = sections(hb);
    const hh = headings(hb).length;
    const oh = headings(ob).length;
    facts.complete = `${hh} / ${oh}`;
    const origLines = new Set(last.text.split('\n').map((l) => l.trim()));
    // Pair sections by heading text, in order; an original section with no partner shows empty.
    let j = 0;
    for (const s of os) {
      if (!s.heading && s.start === s.end) continue;
      let partner = null;
      const key = s.heading ? s.heading.text : null;
      for (let k = j; k < hsec.length; k++) {
        if ((hsec[k].heading ? hsec[k].heading.text : null) === key) { partner = hsec[k]; j = k + 1; break; }
      }
      const left = h('div', { class: 'cell orig' });
      if (s.heading) left.append(h('span', { class: `md-h md-h${s.heading.level}`, text: ob.slice(s.heading.start, s.heading.end) }));
      const body = h('div', { class: 'cell-body' });
      renderTinted(body, last.text, p.blocks.filter((b) => b.start >= s.start && b.end <= s.end), {
        from: s.start, to: s.end,
        classFor: (b) => (b.action === 'keep' ? 'kept' : `changed act-${b.action}`),
      });
      left.append(body);
      const right = h('div', { class: 'cell husk', 'data-testid': 'husk-cell' });
      if (partner) {
        if (partner.heading) right.append(h('span', { class: `md-h md-h${partner.heading.level}`, text: hb.slice(partner.heading.start, partner.heading.end) }));
        const rb = h('div', { class: 'cell-body' });
        hb.slice(partner.start, partner.end).split('\n').forEach((line, i) => {
          const trimmed = line.trim();
          const isNew = trimmed && !origLines.has(trimmed);
          if (i > 0) rb.append('\n');
          rb.append(isNew ? h('span', { class: 'changed-line', text: line }) : line);
        });
        right.append(rb);
      } else {
        right.append(h('div', { class: 'muted small', text: t('husk.withheld') }));
      }
      const rowChanged = p.blocks.some((b) => b.start >= s.start && b.end <= s.end && b.action !== 'keep');
      grid.append(h('div', { class: `husk-row${rowChanged ? ' row-changed' : ''}` }, left, right));
    }
  }
  $('husk-retention').textContent = facts.ret;
  $('husk-changed').textContent = facts.changed;
  $('husk-gate').textContent = facts.gate;
  $('husk-complete').textContent = facts.complete;
}
