//! The block map: where each classifiable block of a markdown note sits, by byte range.
//!
//! Built from pulldown-cmark's offset iterator. A block is a sentence of a paragraph, the own
//! text of a list item (without its marker or nested lists), a table body cell, a blockquote
//! line (without its `>` prefix), a code block's content, or the front matter `description`.
//! Headings, front matter keys, link reference definitions and HTML are skeleton: never blocks.
//! `husk:private` / `husk:public` marker regions are found here too. Rewriting splices
//! replacement text into these ranges ([`splice`]); bytes outside them never change.

use crate::model::{Fingerprint, Visibility};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::ops::Range;

/// The shape of a block, which the rewriter must preserve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockKind {
    /// One sentence of a paragraph.
    Sentence,
    /// The own text of a list item; `depth` 0 is top level.
    ListItem { ordered: bool, depth: usize },
    /// A table body cell.
    TableCell { row: usize, col: usize },
    /// One line of a blockquote, after its prefix.
    QuoteLine,
    /// The content of a fenced or indented code block (between the fences).
    Code { lang: String },
    /// The value of the front matter `description` key.
    Description,
}

impl BlockKind {
    pub fn name(&self) -> &'static str {
        match self {
            BlockKind::Sentence => "sentence",
            BlockKind::ListItem { .. } => "list_item",
            BlockKind::TableCell { .. } => "table_cell",
            BlockKind::QuoteLine => "quote_line",
            BlockKind::Code { .. } => "code",
            BlockKind::Description => "description",
        }
    }
}

/// Which marker region, if any, a block sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Normal,
    Private,
    Public,
}

/// One classifiable block.
#[derive(Debug, Clone)]
pub struct Block {
    pub range: Range<usize>,
    pub kind: BlockKind,
    /// 1-based line and character column of `range.start`.
    pub line: usize,
    pub column: usize,
    /// Index into [`BlockMap::sections`].
    pub section: usize,
    pub region: Region,
    /// Blocks from the same paragraph, table row or blockquote share a group id.
    pub group: usize,
    /// For list items: which list (in document order) the item belongs to.
    pub list: Option<usize>,
}

/// A heading path: the headings above a block, outermost first.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub path: Vec<String>,
}

/// Line ending style of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
}

impl LineEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// The block map of one document.
#[derive(Debug, Clone)]
pub struct BlockMap {
    pub blocks: Vec<Block>,
    pub sections: Vec<Section>,
    /// Byte ranges that never appear in any husk: marker comments (with their line) and whole
    /// `husk:private` regions, headings inside included.
    pub removals: Vec<Range<usize>>,
    /// Ranges of `husk:public` regions (content kept verbatim).
    pub public: Vec<Range<usize>>,
    /// Ranges of `husk:private` regions, markers included.
    pub private: Vec<Range<usize>>,
    /// Byte range of the front matter, delimiters included.
    pub front_matter: Option<Range<usize>>,
    pub visibility: Visibility,
    pub line_ending: LineEnding,
    /// Heading lines, as byte ranges (skeleton, never rewritten).
    pub headings: Vec<Range<usize>>,
}

const MARKER_PREFIX: &str = "<!--";

/// A `husk:` marker comment found in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Private,
    Public,
    End,
}

fn parse_marker(comment: &str) -> Option<Marker> {
    let inner = comment.trim().strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    match inner {
        "husk:private" => Some(Marker::Private),
        "husk:public" => Some(Marker::Public),
        "husk:end" => Some(Marker::End),
        _ => None,
    }
}

/// Precomputed line starts for byte → (line, column) lookups.
pub struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Self { src, starts }
    }
    /// 1-based line and character column.
    pub fn locate(&self, byte: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= byte).max(1);
        let start = self.starts[line - 1];
        let col = self.src.get(start..byte).map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }
    /// Byte range of 1-based line `line`, without its line ending.
    pub fn line_range(&self, line: usize) -> Option<Range<usize>> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).copied().unwrap_or(self.src.len());
        let text = &self.src[start..end];
        let trimmed = text.trim_end_matches(['\n', '\r']).len();
        Some(start..start + trimmed)
    }
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// Split the front matter off: returns its range (delimiters and final newline included).
fn front_matter_range(src: &str) -> Option<Range<usize>> {
    let first = src.lines().next()?;
    if first.trim_end() != "---" {
        return None;
    }
    let mut pos = first.len() + 1;
    while pos <= src.len() {
        let rest = &src[pos..];
        let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let line = rest[..line_end].trim_end();
        if line == "---" || line == "..." {
            return Some(0..pos + line_end);
        }
        if line_end == 0 {
            break;
        }
        pos += line_end;
    }
    None
}

/// The `husk:` key of a front matter block.
fn visibility_of(front: &str) -> Visibility {
    for line in front.lines() {
        if let Some(v) = line.strip_prefix("husk:") {
            return match v.trim().trim_matches(['"', '\'']) {
                "private" => Visibility::Private,
                "public" => Visibility::Public,
                _ => Visibility::Auto,
            };
        }
    }
    Visibility::Auto
}

/// The value range of a single-line `description:` key inside the front matter.
fn description_range(src: &str, front: &Range<usize>) -> Option<Range<usize>> {
    let mut pos = front.start;
    for line in src[front.clone()].split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("description:") {
            let value = rest.trim_end_matches(['\n', '\r']);
            let lead = value.len() - value.trim_start().len();
            let v = value.trim();
            if v.is_empty() || v.starts_with(['|', '>']) {
                return None;
            }
            let start = pos + "description:".len() + lead;
            let (s, e) = if (v.starts_with('"') && v.ends_with('"')
                || v.starts_with('\'') && v.ends_with('\''))
                && v.len() >= 2
            {
                (start + 1, start + v.len() - 1)
            } else {
                (start, start + v.len())
            };
            return (e > s).then_some(s..e);
        }
        pos += line.len();
    }
    None
}

/// Build the block map of `src`.
pub fn block_map(src: &str) -> BlockMap {
    let line_ending = if src.contains("\r\n") { LineEnding::CrLf } else { LineEnding::Lf };
    let lines = LineIndex::new(src);
    let front = front_matter_range(src);
    let visibility = front.as_ref().map_or(Visibility::Auto, |r| visibility_of(&src[r.clone()]));
    let mut map = BlockMap {
        blocks: Vec::new(),
        sections: vec![Section::default()],
        removals: Vec::new(),
        public: Vec::new(),
        private: Vec::new(),
        front_matter: front.clone(),
        visibility,
        line_ending,
        headings: Vec::new(),
    };
    let mut group = 0usize;
    if let Some(fr) = &front {
        if let Some(d) = description_range(src, fr) {
            let (line, column) = lines.locate(d.start);
            map.blocks.push(Block {
                range: d,
                kind: BlockKind::Description,
                line,
                column,
                section: 0,
                region: Region::Normal,
                group,
                list: None,
            });
            group += 1;
        }
    }

    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let parser = Parser::new_ext(src, opts).into_offset_iter();

    // Marker regions are collected from HTML events so markers inside code are ignored.
    let mut open: Option<(Marker, usize)> = None;
    let mut heading_stack: Vec<(u8, String)> = Vec::new();
    let mut heading: Option<(u8, usize, String)> = None;
    // List nesting: (ordered) per open list, and per open item its start and own-text end.
    let mut lists: Vec<(bool, usize)> = Vec::new();
    let mut list_count = 0usize;
    struct OpenItem {
        start: usize,
        own_end: Option<usize>,
    }
    let mut items: Vec<OpenItem> = Vec::new();
    let mut quote_depth = 0usize;
    let mut table_row: Option<(usize, usize)> = None; // (row index, next col)
    let mut in_table_head = false;
    let mut rows = 0usize;
    let mut pending: Vec<(Range<usize>, BlockKind, bool)> = Vec::new(); // (range, kind, split sentences)
    let mut ranges: Vec<Range<usize>> = Vec::new(); // the blocks of one pending range
    let mut pending_list: Option<usize> = None;

    for (event, range) in parser {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => {}
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, range.start, String::new()));
                map.headings.push(range.clone());
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((lvl, _, text)) = heading.take() {
                    while heading_stack.last().is_some_and(|(l, _)| *l >= lvl) {
                        heading_stack.pop();
                    }
                    heading_stack.push((lvl, text.trim().to_string()));
                    map.sections
                        .push(Section { path: heading_stack.iter().map(|(_, t)| t.clone()).collect() });
                }
            }
            Event::Text(t) | Event::Code(t) if heading.is_some() => {
                if let Some((_, _, s)) = heading.as_mut() {
                    s.push_str(&t);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let trimmed = html.trim();
                if trimmed.starts_with(MARKER_PREFIX) {
                    if let Some(m) = parse_marker(trimmed) {
                        // A marker alone on its line takes the whole line, line ending included.
                        let line_start = src[..range.start].rfind('\n').map_or(0, |i| i + 1);
                        let last = range.end.saturating_sub(1).max(range.start);
                        let line_end = src[last..].find('\n').map_or(src.len(), |i| last + i + 1);
                        let only_marker = src[line_start..range.start].trim().is_empty()
                            && src[range.end.min(line_end)..line_end].trim().is_empty();
                        let full = if only_marker { line_start..line_end } else { range.clone() };
                        match (m, open) {
                            (Marker::Private | Marker::Public, None) => open = Some((m, full.start)),
                            (Marker::End, Some((Marker::Private, s))) => {
                                // Between two blank lines, take one of them along for tidy spacing.
                                let blank_before =
                                    s == 0 || src[..s].ends_with("\n\n") || src[..s].ends_with("\n\r\n");
                                let mut end = full.end;
                                for nl in ["\n", "\r\n"] {
                                    if blank_before && src[end..].starts_with(nl) {
                                        end += nl.len();
                                        break;
                                    }
                                }
                                map.private.push(s..end);
                                map.removals.push(s..end);
                                open = None;
                            }
                            (Marker::End, Some((Marker::Public, s))) => {
                                map.public.push(s..full.end);
                                open = None;
                            }
                            _ => map.removals.push(full.clone()),
                        }
                        if let (Marker::Public, Some((Marker::Public, _))) = (m, open) {
                            map.removals.push(full.clone());
                        }
                        if m == Marker::End && !map.removals.iter().any(|r| r.contains(&full.start)) {
                            map.removals.push(full);
                        }
                    }
                }
            }
            Event::Start(Tag::List(first)) => {
                if let Some(it) = items.last_mut() {
                    it.own_end.get_or_insert(range.start);
                }
                lists.push((first.is_some(), list_count));
                list_count += 1;
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
            }
            Event::Start(Tag::Item) => items.push(OpenItem { start: range.start, own_end: None }),
            Event::End(TagEnd::Item) => {
                if let Some(it) = items.pop() {
                    let end = it.own_end.unwrap_or(range.end);
                    if let Some(r) = item_text(src, it.start..end) {
                        let depth = lists.len().saturating_sub(1);
                        let (ordered, id) = lists.last().copied().unwrap_or((false, 0));
                        pending.push((r, BlockKind::ListItem { ordered, depth }, false));
                        pending_list = Some(id);
                    }
                }
            }
            Event::Start(Tag::BlockQuote(_)) => quote_depth += 1,
            Event::End(TagEnd::BlockQuote(_)) => quote_depth = quote_depth.saturating_sub(1),
            Event::Start(Tag::Paragraph) if items.is_empty() && table_row.is_none() => {
                if quote_depth > 0 {
                    for r in quote_lines(src, range.clone()) {
                        pending.push((r, BlockKind::QuoteLine, false));
                    }
                } else {
                    pending.push((trim_range(src, range.clone()), BlockKind::Sentence, true));
                }
            }
            Event::Start(Tag::Paragraph) => {
                // A paragraph inside a loose list item: the item's own text ends after the first
                // paragraph only if a nested block follows; handled by own_end on nested lists.
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match &kind {
                    CodeBlockKind::Fenced(l) => l.split_whitespace().next().unwrap_or("").to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                if let Some(it) = items.last_mut() {
                    it.own_end.get_or_insert(range.start);
                }
                if let Some(inner) =
                    code_content(src, range.clone(), matches!(kind, CodeBlockKind::Fenced(_)))
                {
                    pending.push((inner, BlockKind::Code { lang }, false));
                }
            }
            Event::Start(Tag::TableHead) => in_table_head = true,
            Event::End(TagEnd::TableHead) => in_table_head = false,
            Event::Start(Tag::TableRow) => {
                rows += 1;
                table_row = Some((rows, 0));
            }
            Event::End(TagEnd::TableRow) => {
                table_row = None;
                group += 1;
            }
            Event::Start(Tag::TableCell) => {
                if in_table_head {
                    continue;
                }
                if let Some((row, col)) = table_row.as_mut() {
                    let r = trim_range(src, range.clone());
                    if !r.is_empty() {
                        pending.push((r, BlockKind::TableCell { row: *row, col: *col }, false));
                    }
                    *col += 1;
                }
            }
            _ => {}
        }
        // Flush pending blocks (they take the current section).
        for (r, kind, split) in pending.drain(..) {
            let section = map.sections.len() - 1;
            ranges.clear();
            if split {
                sentences_into(src, r, &mut ranges);
            } else {
                ranges.push(r);
            }
            let is_cell = matches!(kind, BlockKind::TableCell { .. });
            for s in ranges.drain(..) {
                let (line, column) = lines.locate(s.start);
                let list =
                    if matches!(kind, BlockKind::ListItem { .. }) { pending_list.take() } else { None };
                map.blocks.push(Block {
                    range: s,
                    kind: kind.clone(),
                    line,
                    column,
                    section,
                    region: Region::Normal,
                    group,
                    list,
                });
            }
            if !is_cell {
                group += 1;
            }
        }
    }
    if let Some((Marker::Private, s)) = open {
        // An unterminated private marker withholds everything to the end: the safe reading.
        map.private.push(s..src.len());
        map.removals.push(s..src.len());
    } else if let Some((Marker::Public, s)) = open {
        map.public.push(s..src.len());
    }
    for b in &mut map.blocks {
        if map.private.iter().any(|r| r.contains(&b.range.start)) {
            b.region = Region::Private;
        } else if map.public.iter().any(|r| r.contains(&b.range.start)) {
            b.region = Region::Public;
        }
    }
    map.blocks.sort_by_key(|b| b.range.start);
    map.removals.sort_by_key(|r| r.start);
    merge_ranges(&mut map.removals);
    map
}

fn merge_ranges(v: &mut Vec<Range<usize>>) {
    let mut out: Vec<Range<usize>> = Vec::with_capacity(v.len());
    for r in v.drain(..) {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    *v = out;
}

fn trim_range(src: &str, r: Range<usize>) -> Range<usize> {
    let s = &src[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail >= s.len() {
        return r.start..r.start;
    }
    r.start + lead..r.end - trail
}

/// The own text of a list item: after the marker (and task box), before nested blocks.
fn item_text(src: &str, r: Range<usize>) -> Option<Range<usize>> {
    let s = &src[r.clone()];
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    if i < bytes.len() && matches!(bytes[i], b'-' | b'*' | b'+') {
        i += 1;
    } else {
        let d = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == d || i >= bytes.len() || !matches!(bytes[i], b'.' | b')') {
            return None;
        }
        i += 1;
    }
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    for tb in ["[ ] ", "[x] ", "[X] "] {
        if s[i..].starts_with(tb) {
            i += tb.len();
        }
    }
    let t = trim_range(src, r.start + i..r.end);
    (!t.is_empty()).then_some(t)
}

/// The lines of a paragraph inside a blockquote, each without its `>` prefixes.
fn quote_lines(src: &str, r: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut pos = src[..r.start].rfind('\n').map_or(0, |i| i + 1);
    while pos < r.end {
        let rest = &src[pos..];
        let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let line = &rest[..len];
        let mut i = 0;
        let b = line.as_bytes();
        loop {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            if i < b.len() && b[i] == b'>' {
                i += 1;
            } else {
                break;
            }
        }
        let start = (pos + i).max(r.start);
        let t = trim_range(src, start..(pos + len).min(r.end));
        if !t.is_empty() {
            out.push(t);
        }
        pos += len;
    }
    out
}

/// The content lines of a code block: between the fences, or the whole indented block.
fn code_content(src: &str, r: Range<usize>, fenced: bool) -> Option<Range<usize>> {
    let s = &src[r.clone()];
    if !fenced {
        let t = r.start..r.start + s.trim_end_matches(['\n', '\r']).len();
        return (!t.is_empty()).then_some(t);
    }
    let open_len = s.find('\n')? + 1;
    let body = &s[open_len..];
    // The closing fence is the last non-empty line if it is made of fence characters.
    let trimmed = body.trim_end_matches(['\n', '\r', ' ']);
    let last_nl = trimmed.rfind('\n').map_or(0, |i| i + 1);
    let last = trimmed[last_nl..].trim();
    let end =
        if !last.is_empty() && last.chars().all(|c| c == '`' || c == '~') { last_nl } else { body.len() };
    let content = body[..end].trim_end_matches(['\n', '\r']);
    (!content.trim().is_empty()).then_some(r.start + open_len..r.start + open_len + content.len())
}

/// Split a paragraph into sentences, on Chinese and English end punctuation.
pub fn sentences(src: &str, r: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    sentences_into(src, r, &mut out);
    out
}

/// [`sentences`], added to `out`.
fn sentences_into(src: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let text = &src[r.clone()];
    let mut start = 0usize;
    let mut in_code = false;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c == '`' {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let end = match c {
            '。' | '！' | '？' | '；' => {
                // Swallow closing quotes right after the stop.
                let mut e = i + c.len_utf8();
                while let Some(&(j, q)) = it.peek() {
                    if matches!(q, '”' | '’' | '」' | '』' | '）' | ')') {
                        e = j + q.len_utf8();
                        it.next();
                    } else {
                        break;
                    }
                }
                Some(e)
            }
            '.' | '!' | '?' => {
                let mut e = i + 1;
                while let Some(&(j, q)) = it.peek() {
                    if matches!(q, '"' | '\'' | ')' | '”' | '’') {
                        e = j + q.len_utf8();
                        it.next();
                    } else {
                        break;
                    }
                }
                match it.peek() {
                    Some(&(_, n)) if n.is_whitespace() => Some(e),
                    None => Some(e),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(e) = end {
            let t = trim_range(src, r.start + start..r.start + e);
            if !t.is_empty() {
                out.push(t);
            }
            start = e;
        }
    }
    if start < text.len() {
        let t = trim_range(src, r.start + start..r.end);
        if !t.is_empty() {
            out.push(t);
        }
    }
}

/// A stable fingerprint for a block: its whitespace-normalized, lowercased text plus its heading
/// path. Overrides are keyed by it, so they survive edits elsewhere in the note.
pub fn fingerprint(heading_path: &[String], text: &str) -> Fingerprint {
    finish_fingerprint(path_state(heading_path), text, &mut String::new())
}

/// Every block's [`fingerprint`], in block order: the heading path is hashed once per section.
pub fn fingerprints(src: &str, map: &BlockMap) -> Vec<Fingerprint> {
    let states: Vec<Sha256> = map.sections.iter().map(|s| path_state(&s.path)).collect();
    let mut buf = String::new();
    map.blocks
        .iter()
        .map(|b| finish_fingerprint(states[b.section].clone(), &src[b.range.clone()], &mut buf))
        .collect()
}

fn path_state(heading_path: &[String]) -> Sha256 {
    let mut h = Sha256::new();
    for p in heading_path {
        h.update(p.trim().as_bytes());
        h.update([0x1f]);
    }
    h.update([0x1e]);
    h
}

fn finish_fingerprint(h: Sha256, text: &str, norm: &mut String) -> Fingerprint {
    // The normalized text in one buffer: words joined by one space, lowercased.
    norm.clear();
    // Text whose only whitespace is ASCII and whose other characters have no case beyond ASCII
    // (English, and Chinese with its punctuation): words are runs between ASCII whitespace
    // bytes, copied whole and lowercased in place (the same result as the general path below).
    if caseless_beyond_ascii(text) {
        let b = text.as_bytes();
        let ws = |x: u8| matches!(x, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && ws(b[i]) {
                i += 1;
            }
            let start = i;
            while i < b.len() && !ws(b[i]) {
                i += 1;
            }
            if start < i {
                if !norm.is_empty() {
                    norm.push(' ');
                }
                let at = norm.len();
                norm.push_str(&text[start..i]);
                norm[at..].make_ascii_lowercase();
            }
        }
        return digest(h, norm);
    }
    for w in text.split_whitespace() {
        if !norm.is_empty() {
            norm.push(' ');
        }
        if w.is_ascii() {
            let at = norm.len();
            norm.push_str(w);
            norm[at..].make_ascii_lowercase();
        } else {
            norm.push_str(&w.to_lowercase());
        }
    }
    digest(h, norm)
}

/// A character that no case mapping changes: CJK ideographs, CJK punctuation, general
/// punctuation (dashes, curly quotes, ellipsis) and fullwidth punctuation and digits.
#[cfg(test)]
fn caseless(c: char) -> bool {
    crate::classify::is_cjk(c) || matches!(c as u32, 0x2010..=0x2027 | 0x3000..=0x303F | 0xFF01..=0xFF20)
}

/// Every character of `text` is ASCII, or [`caseless`] and not whitespace: read from the UTF-8
/// lead and continuation bytes, without decoding (a test checks every character).
fn caseless_beyond_ascii(text: &str) -> bool {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        let (ok, len) = match b[i] {
            0x00..=0x7F => (true, 1),
            // U+2010..=U+2027
            0xE2 => (at(i + 1) == 0x80 && (0x90..=0xA7).contains(&at(i + 2)), 3),
            // U+3001..=U+303F (U+3000 is a space), U+3400..=U+3FFF
            0xE3 => (at(i + 1) == 0x80 && at(i + 2) != 0x80 || at(i + 1) >= 0x90, 3),
            // U+4000..=U+4DBF, U+4E00..=U+4FFF (not U+4DC0..=U+4DFF)
            0xE4 => (at(i + 1) != 0xB7, 3),
            // U+5000..=U+9FFF
            0xE5..=0xE9 => (true, 3),
            // U+F900..=U+FAFF, U+FF01..=U+FF20
            0xEF => (
                (0xA4..=0xAB).contains(&at(i + 1)) || at(i + 1) == 0xBC && (0x81..=0xA0).contains(&at(i + 2)),
                3,
            ),
            // U+20000..=U+2FA1F
            0xF0 => {
                let (b1, b2, b3) = (at(i + 1), at(i + 2), at(i + 3));
                ((0xA0..=0xAE).contains(&b1) || b1 == 0xAF && (b2 < 0xA8 || b2 == 0xA8 && b3 <= 0x9F), 4)
            }
            _ => (false, 1),
        };
        if !ok {
            return false;
        }
        i += len;
    }
    true
}

/// The first 16 bytes of the hash of everything so far and `norm`, in hex.
fn digest(mut h: Sha256, norm: &str) -> Fingerprint {
    h.update(norm.as_bytes());
    Fingerprint::of(&h.finalize())
}

/// Replace `edits` (sorted, non-overlapping byte ranges) in `src`; all other bytes are copied.
pub fn splice<S: AsRef<str>>(src: &str, edits: impl IntoIterator<Item = (Range<usize>, S)>) -> String {
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    let mut pos = 0;
    for (r, text) in edits {
        if r.start < pos {
            continue; // overlapping edit: the earlier one (a removal) wins
        }
        out.push_str(&src[pos..r.start]);
        out.push_str(text.as_ref());
        pos = r.end;
    }
    out.push_str(&src[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caseless_characters_have_no_lowercase_form() {
        let all = (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|c| caseless(*c));
        for c in all {
            assert!(c.to_lowercase().eq([c]), "{c:?} changes when lowercased");
        }
    }

    fn texts<'a>(src: &'a str, m: &BlockMap) -> Vec<&'a str> {
        m.blocks.iter().map(|b| &src[b.range.clone()]).collect()
    }

    #[test]
    fn paragraphs_split_into_sentences_in_both_languages() {
        let src = "# T\n\nFirst one. Second one! Third `a.b` here\n\n先做这个。再做那个！最后\n";
        let m = block_map(src);
        assert_eq!(
            texts(src, &m),
            ["First one.", "Second one!", "Third `a.b` here", "先做这个。", "再做那个！", "最后"]
        );
        assert!(m.blocks.iter().all(|b| b.kind == BlockKind::Sentence));
        assert_eq!(m.sections[m.blocks[0].section].path, ["T"]);
    }

    #[test]
    fn nested_list_items_exclude_markers_and_children() {
        let src = "- outer item\n  - inner item\n  - [ ] task item\n1. numbered\n";
        let m = block_map(src);
        assert_eq!(texts(src, &m), ["outer item", "inner item", "task item", "numbered"]);
        assert_eq!(m.blocks[1].kind, BlockKind::ListItem { ordered: false, depth: 1 });
        assert_eq!(m.blocks[3].kind, BlockKind::ListItem { ordered: true, depth: 0 });
        assert_eq!(
            (m.blocks[0].list, m.blocks[1].list, m.blocks[2].list, m.blocks[3].list),
            (Some(0), Some(1), Some(1), Some(2))
        );
        assert_eq!((m.blocks[1].line, m.blocks[1].column), (2, 5));
    }

    #[test]
    fn table_body_cells_are_blocks_and_header_is_skeleton() {
        let src = "| A | B |\n| --- | --- |\n| x1 | y1 |\n| x2 | y2 |\n";
        let m = block_map(src);
        assert_eq!(texts(src, &m), ["x1", "y1", "x2", "y2"]);
        assert_eq!(m.blocks[3].kind, BlockKind::TableCell { row: 2, col: 1 });
        assert_eq!(m.blocks[0].group, m.blocks[1].group);
        assert_ne!(m.blocks[1].group, m.blocks[2].group);
    }

    #[test]
    fn quote_lines_and_code_content() {
        let src = "> 你：好的\n> 他：不行\n\n```bash\nrun --x=1\n```\n";
        let m = block_map(src);
        assert_eq!(texts(src, &m), ["你：好的", "他：不行", "run --x=1"]);
        assert_eq!(m.blocks[2].kind, BlockKind::Code { lang: "bash".into() });
    }

    #[test]
    fn front_matter_description_and_visibility() {
        let src = "---\nname: x\ndescription: \"Does things.\"\nhusk: public\n---\n\nBody.\n";
        let m = block_map(src);
        assert_eq!(texts(src, &m), ["Does things.", "Body."]);
        assert_eq!(m.visibility, Visibility::Public);
        assert_eq!(m.blocks[0].kind, BlockKind::Description);
    }

    #[test]
    fn crlf_offsets_exclude_line_endings() {
        let src = "# H\r\n\r\n- one\r\n- two\r\n\r\nA. B.\r\n";
        let m = block_map(src);
        assert_eq!(m.line_ending, LineEnding::CrLf);
        assert_eq!(texts(src, &m), ["one", "two", "A.", "B."]);
    }

    #[test]
    fn private_region_is_removed_whole_and_markers_vanish() {
        let src = "a\n\n<!-- husk:private -->\n## Secret\n\n- hidden\n<!-- husk:end -->\n\n<!-- husk:public -->\nshown\n<!-- husk:end -->\nz\n";
        let m = block_map(src);
        let regions: Vec<_> = m.blocks.iter().map(|b| (&src[b.range.clone()], b.region)).collect();
        assert_eq!(
            regions,
            [
                ("a", Region::Normal),
                ("hidden", Region::Private),
                ("shown", Region::Public),
                ("z", Region::Normal)
            ]
        );
        let out = splice(src, m.removals.iter().map(|r| (r.clone(), "")));
        assert_eq!(out, "a\n\nshown\nz\n");
    }

    #[test]
    fn splice_copies_untouched_bytes() {
        let src = "abc def ghi";
        assert_eq!(splice(src, [(4..7, "XYZW")]), "abc XYZW ghi");
    }

    #[test]
    fn the_byte_check_agrees_with_the_character_check_on_every_character() {
        let check = |t: &str| t.chars().all(|c| c.is_ascii() || caseless(c) && !c.is_whitespace());
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let t = format!("a{c}b{c}");
            assert_eq!(caseless_beyond_ascii(&t), check(&t), "{:X}", c as u32);
        }
        for t in ["", "plain ascii", "缓存，不要 — “引号” ＡＢ", "缓存\u{3000}x", "ΣΑΣ", "𠀀𯨟", "𯨠"]
        {
            assert_eq!(caseless_beyond_ascii(t), check(t), "{t:?}");
        }
    }

    #[test]
    fn fingerprint_ignores_whitespace_and_case_but_not_section() {
        // The ASCII fast path normalizes exactly as the general one does.
        for t in ["  Tabs\tand\x0bVT\x0c and\r\nCRLF  ", "x", "", "   ", "MiXeD 123 _-"] {
            let mut general = String::new();
            for w in t.split_whitespace() {
                if !general.is_empty() {
                    general.push(' ');
                }
                general.push_str(&w.to_lowercase());
            }
            let mut h = Sha256::new();
            h.update([0x1e]);
            assert_eq!(fingerprint(&[], t), digest(h, &general), "{t:?}");
        }
        let a = fingerprint(&["H".into()], "Some  Text");
        assert_eq!(a, fingerprint(&["H".into()], "some text"));
        assert_ne!(a, fingerprint(&["Other".into()], "some text"));
    }

    proptest::proptest! {
        /// The fingerprint hashes the heading path and the text's words, lowercased and joined
        /// by one space, whatever the script, case or kind of whitespace.
        #[test]
        fn fingerprint_normalizes_words_and_case(parts in proptest::collection::vec(proptest::sample::select(vec!["Ab", "cD", " ", "\t", "\r\n", "\u{3000}", "\u{a0}", "缓存", "，", "“", "ΣΑΣ", "É", "ｆ", "！", "—", "x1"]), 0..12)) {
            let text: String = parts.concat();
            let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
            let path = vec!["Guide".to_string()];
            proptest::prop_assert_eq!(fingerprint(&path, &text), digest(path_state(&path), &words.join(" ")), "{:?}", text);
        }
    }
}
