//! How a message body is delimited, as a value.

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// There is no body.
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// The body is a sequence of chunks ending with a zero-size chunk and trailers.
    Chunked,
    /// The body runs until the peer closes the connection (responses only).
    UntilClose,
}

impl Framing {
    /// True when the connection cannot carry another message after this body.
    pub fn is_close_delimited(self) -> bool {
        self == Framing::UntilClose
    }

    /// The exact body length when the framing states it: 0 for `None`, `n` for `Length(n)`.
    pub fn known_length(self) -> Option<u64> {
        match self {
            Framing::None => Some(0),
            Framing::Length(n) => Some(n),
            Framing::Chunked | Framing::UntilClose => None,
        }
    }
}
