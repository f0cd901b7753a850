//! The protocol version (the egg's PROTOCOL symbol).

use std::fmt;

/// An HTTP/1.x protocol version.
///
/// ```
/// use http_utils::Version;
/// assert_eq!(Version::Http11.as_str(), "HTTP/1.1");
/// assert!(Version::Http11.keeps_alive_by_default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    #[default]
    Http11,
}

impl Version {
    /// The version as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }

    /// HTTP/1.1 keeps connections open unless told otherwise; HTTP/1.0 closes them unless told
    /// `Connection: keep-alive`.
    pub fn keeps_alive_by_default(self) -> bool {
        self == Version::Http11
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
