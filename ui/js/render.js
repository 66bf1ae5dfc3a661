// Renders a note's markdown source as a readable preview with its blocks tinted by category.
// The source is shown as written (headings styled), never re-generated.
import { h, clear } from './dom.js';
import { ByteText, headings } from './text.js';

// blocks: [{start, end, category, ...}], classFor(block) -> extra class, onClick(block, index)
export function renderTinted(container, text, blocks, opts = {}) {
  clear(container);
  const bt = new ByteText(text);
  const parts = [];
  for (const hd of headings(bt)) parts.push({ kind: 'h', ...hd });
  blocks.forEach((b, i) => parts.push({ kind: 'b', start: b.start, end: b.end, block: b, index: i }));
  parts.sort((a, b) => a.start - b.start);
  let pos = opts.from ?? 0;
  const stop = opts.to ?? bt.length;
  for (const p of parts) {
    if (p.start < pos || p.end > stop) continue;
    if (p.start > pos) container.append(bt.slice(pos, p.start));
    if (p.kind === 'h') {
      container.append(h('span', { class: `md-h md-h${p.level}`, text: bt.slice(p.start, p.end) }));
    } else {
      const b = p.block;
      const cls = ['blk', `cat-${b.category}`, opts.classFor ? opts.classFor(b) : ''].join(' ').trim();
      const span = h('span', { class: cls, 'data-testid': 'block', dataset: { index: String(p.index), category: b.category }, text: bt.slice(p.start, p.end) });
      if (opts.onClick) span.addEventListener('click', () => opts.onClick(b, p.index, span));
      container.append(span);
    }
    pos = p.end;
  }
  if (pos < stop) container.append(bt.slice(pos, stop));
}

export const CATEGORIES = ['pitfall', 'incident', 'judgment', 'network', 'context', 'style', 'shareable'];
