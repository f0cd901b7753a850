//! The fields of a head being parsed: ranges into the received bytes until the head is
//! complete, then one copy of the section with the names lower-cased.

use super::known::Index;
use super::{Entry, Headers, AS_STORED};
use crate::token::lowercase_ascii;

/// The fields of a head being parsed, as ranges into the received bytes. Nothing is copied
/// until the head is complete, and then the whole field section is copied at once: the names
/// are lower-cased in place and the bytes between fields stay unused in the buffer.
pub(crate) struct WireFields {
    /// Where the field section starts in the received bytes.
    base: usize,
    /// Ranges relative to `base`.
    entries: Vec<Entry>,
    /// Some value runs over a line break (obsolete line folding).
    folded: bool,
    /// A buffer to build the headers in (empty, with its capacity).
    reuse: Option<String>,
}

impl WireFields {
    /// No fields yet; the section starts at `base`.
    pub(crate) fn new(base: usize) -> WireFields {
        WireFields { base, entries: Vec::new(), folded: false, reuse: None }
    }

    /// Like [`new`](WireFields::new), filling the allocations of headers done with.
    pub(crate) fn reusing(base: usize, spare: Headers) -> WireFields {
        let Headers { mut buf, mut entries, .. } = spare;
        buf.clear();
        entries.clear();
        WireFields { base, entries, folded: false, reuse: Some(buf) }
    }

    /// Number of fields so far.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Notes that a value runs over a line break (an obsolete line fold) that
    /// [`finish`](WireFields::finish) must turn into spaces.
    pub(crate) fn mark_folded(&mut self) {
        self.folded = true;
    }

    /// Records a field whose name is the token `buf[name.0..name.1]` and whose value is the
    /// trimmed field-value bytes `buf[value.0..value.1]` (absolute offsets, both after
    /// `base`). Returns `false` when the section would pass 2 GiB (treated as too large).
    pub(crate) fn push(&mut self, name: (usize, usize), value: (usize, usize)) -> bool {
        let rel = |n: usize| u32::try_from(n - self.base).ok().filter(|&r| r <= u32::MAX / 2);
        match (rel(name.0), rel(name.1), rel(value.0), rel(value.1)) {
            (Some(start), Some(name_end), Some(value_start), Some(end)) => {
                if self.entries.is_empty() {
                    // Room for a typical head in one allocation.
                    self.entries.reserve(16);
                }
                self.entries.push(Entry { start, name_end, value_start, end, written: AS_STORED });
                true
            }
            _ => false,
        }
    }

    /// Where the field section ends in the received bytes.
    fn end(&self) -> usize {
        self.base + self.entries.last().map_or(0, |e| e.end as usize)
    }

    /// Builds the headers from the received bytes `buf` (the same slice the ranges point
    /// into). `None` when the section is too large to hold. The fields are taken out: what
    /// is left is empty.
    ///
    /// The section is copied at once, its folds become spaces and its names lower case
    /// (eight bytes at a time), and then it is checked as UTF-8 once; a section with other
    /// bytes has those values read as ISO-8859-1.
    #[inline]
    pub(crate) fn finish(&mut self, buf: &[u8]) -> Option<Headers> {
        let section = buf.get(self.base..self.end())?;
        let entries = std::mem::take(&mut self.entries);
        let mut bytes = self.reuse.take().map(String::into_bytes).unwrap_or_default();
        bytes.extend_from_slice(section);
        let mut known = Index::default();
        for (i, e) in entries.iter().enumerate() {
            let (start, end) = (e.start as usize, e.name_end as usize);
            // Names are tokens (ASCII), checked by the parser.
            lowercase_ascii(&mut bytes, start, end);
            known.note_name(bytes.get(start..end).unwrap_or_default(), i);
            if self.folded {
                unfold(bytes.get_mut(e.value_start as usize..e.end as usize)?);
            }
        }
        // Turning whitespace into spaces and letters into lower case keeps UTF-8 valid and
        // invalid alike.
        let bytes = match String::from_utf8(bytes) {
            Ok(buf) => return Some(Headers { buf, entries, known }),
            Err(e) => e.into_bytes(),
        };
        let mut headers = Headers::with_capacity(entries.len(), 2 * section.len());
        for e in &entries {
            let name = bytes.get(e.start as usize..e.name_end as usize)?;
            let value = bytes.get(e.value_start as usize..e.end as usize)?;
            if !headers.push_wire(name, value) {
                return None;
            }
        }
        Some(headers)
    }

    /// The buffers not made into headers (empty, with their capacity), for the next parse.
    pub(crate) fn into_spare(mut self) -> Headers {
        self.entries.clear();
        Headers { buf: self.reuse.take().unwrap_or_default(), entries: self.entries, known: Index::default() }
    }
}

/// Replaces each obsolete line fold in a value (whitespace around a line break) by spaces.
fn unfold(value: &mut [u8]) {
    let mut i = 0;
    while i < value.len() {
        if value[i] != b'\r' && value[i] != b'\n' {
            i += 1;
            continue;
        }
        let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
        let mut start = i;
        while start > 0 && is_ws(value[start - 1]) {
            start -= 1;
        }
        let mut end = i;
        while end < value.len() && is_ws(value[end]) {
            end += 1;
        }
        value[start..end].fill(b' ');
        i = end;
    }
}
