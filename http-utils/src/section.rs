//! The header section a request record was parsed from, kept so that the next request
//! parsed into the same record with the same section (what a client on a kept-alive
//! connection sends request after request) takes the record's headers as they are, and
//! what a server asks of them, worked out once for them.

use crate::error::ErrorKind;
use crate::framing::kind::Framing;
use crate::limits::Limits;
use crate::version::Version;

/// The received bytes of the header section a request's headers were parsed from (up to
/// and including the empty line), while the headers are still exactly what was parsed;
/// empty otherwise.
#[derive(Default)]
pub(crate) struct RawSection {
    bytes: Vec<u8>,
    /// The limits it was parsed within: the same bytes pass any limits at least as large.
    max_header_line: usize,
    max_headers: usize,
    /// What the headers say, for a request of this version.
    facts: Option<Facts>,
}

/// What a server asks of every request head, for headers parsed from the kept section and
/// the version they came with: the answers of [`check_host`](crate::check_host),
/// [`request_framing`](crate::request_framing) and
/// [`wants_keep_alive`](crate::Request::wants_keep_alive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    pub version: Version,
    /// The error `check_host` gives, if any.
    pub host: Option<ErrorKind>,
    pub framing: Result<Framing, ErrorKind>,
    pub keep_alive: bool,
}

/// Sections longer than this are not kept (a copy would cost more than it saves).
const KEEP_AT_MOST: usize = 4 * 1024;

impl RawSection {
    /// Remembers `bytes` as the section just parsed within `limits`.
    pub(crate) fn keep(&mut self, bytes: &[u8], limits: &Limits) {
        self.bytes.clear();
        self.facts = None;
        if bytes.len() <= KEEP_AT_MOST {
            self.bytes.extend_from_slice(bytes);
            self.max_header_line = limits.max_header_line;
            self.max_headers = limits.max_headers;
        }
    }

    /// The headers no longer match the bytes (changed, replaced or taken).
    #[inline]
    pub(crate) fn forget(&mut self) {
        self.bytes.clear();
        self.facts = None;
    }

    /// The facts of the headers as they are, when known for `version`.
    #[inline]
    pub(crate) fn facts(&self, version: Version) -> Option<&Facts> {
        self.facts.as_ref().filter(|f| f.version == version)
    }

    /// True when facts for `version` are to be worked out: a section is kept (without one
    /// the headers may change unseen) and no facts for that version are known.
    pub(crate) fn wants_facts(&self, version: Version) -> bool {
        !self.bytes.is_empty() && self.facts(version).is_none()
    }

    /// Notes the facts of the headers parsed from the kept section.
    pub(crate) fn note_facts(&mut self, facts: Facts) {
        self.facts = Some(facts);
    }

    /// Where the section ends in `buf` if the bytes at `at` repeat the kept section and
    /// `limits` allow it (`max_head` counts from the start of `buf`).
    #[inline]
    pub(crate) fn repeated_in(&self, buf: &[u8], at: usize, limits: &Limits) -> Option<usize> {
        let end = at.checked_add(self.bytes.len())?;
        let fits = !self.bytes.is_empty()
            && end <= limits.max_head
            && limits.max_header_line >= self.max_header_line
            && limits.max_headers >= self.max_headers;
        (fits && buf.get(at..end)? == self.bytes.as_slice()).then_some(end)
    }
}
