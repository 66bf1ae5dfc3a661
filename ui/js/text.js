// Byte-range helpers: husk-core reports UTF-8 byte offsets; JS strings are UTF-16.
const enc = new TextEncoder();
const dec = new TextDecoder();

export class ByteText {
  constructor(text) {
    this.text = text;
    this.bytes = enc.encode(text);
  }
  slice(start, end) { return dec.decode(this.bytes.subarray(start, end)); }
  get length() { return this.bytes.length; }
}

// Heading lines as byte ranges with their level and text.
export function headings(bt) {
  const out = [];
  const b = bt.bytes;
  let start = 0;
  let inFence = false;
  while (start <= b.length) {
    let end = b.indexOf(10, start);
    if (end === -1) end = b.length;
    const line = bt.slice(start, end).replace(/\r$/, '');
    if (/^(```|~~~)/.test(line)) inFence = !inFence;
    const m = !inFence && /^(#{1,6})\s+(.*)$/.exec(line);
    if (m) out.push({ start, end, level: m[1].length, text: m[2].trim() });
    if (end === b.length) break;
    start = end + 1;
  }
  return out;
}
