//! Byte and count limits on what is read from the network (the egg's `http:read-line-limit`).

/// Limits applied while reading a message. Every field has a safe default; every breach is one
/// [`ErrorKind`](crate::ErrorKind) and one status code.
///
/// ```
/// use http_utils::Limits;
/// let limits = Limits { max_body: 1 << 20, ..Limits::default() };
/// assert_eq!(limits.max_request_line, 8 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line or status line, in bytes, without its line ending (the egg's
    /// `http:read-line-limit`). Default 8 KiB; a breach is 414 (`RequestLineTooLong`).
    pub max_request_line: usize,
    /// Longest header line, in bytes, without its line ending. Default 8 KiB; a breach is 431.
    pub max_header_line: usize,
    /// Most header fields in one head (and in one trailer section). Default 100; a breach is 431.
    pub max_headers: usize,
    /// Most bytes in a whole head, line endings included. Default 64 KiB; a breach is 431.
    pub max_head: usize,
    /// Most bytes in a body that is read whole (content parsers, `read_to_end` helpers, a
    /// [`ChunkedDecoder`](crate::ChunkedDecoder) given it with `with_max_body`, which refuses a
    /// chunk size past it as soon as the size line is read). Default 10 MiB; a breach is 413.
    pub max_body: u64,
    /// Longest chunk-size line, extensions included. Default 4 KiB; a breach is 400.
    pub max_chunk_line: usize,
}

impl Limits {
    /// The defaults, usable in `const` context.
    pub const DEFAULT: Limits = Limits {
        max_request_line: 8 * 1024,
        max_header_line: 8 * 1024,
        max_headers: 100,
        max_head: 64 * 1024,
        max_body: 10 * 1024 * 1024,
        max_chunk_line: 4 * 1024,
    };
}

impl Limits {
    /// The defaults of a client reading responses from the web, where heads are larger than
    /// requests: header lines up to 256 KiB, 1,000 fields and a 512 KiB head (browsers and
    /// curl take about as much), the rest as [`Limits::DEFAULT`].
    ///
    /// ```
    /// let limits = http_utils::Limits::CLIENT;
    /// assert_eq!((limits.max_header_line, limits.max_headers, limits.max_head), (256 << 10, 1000, 512 << 10));
    /// ```
    pub const CLIENT: Limits =
        Limits { max_header_line: 256 * 1024, max_headers: 1000, max_head: 512 * 1024, ..Limits::DEFAULT };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
