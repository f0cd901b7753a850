//! The fields a server reads for every request (framing, `Host`, `Connection`, `Expect`,
//! `Accept-Encoding`, `Upgrade`), found once when the fields are stored: where the first of
//! each is and whether it repeats, so that looking one up does not scan the others.

const HOST: &[u8; 4] = b"host";
const EXPECT: &[u8; 6] = b"expect";
const UPGRADE: &[u8; 7] = b"upgrade";
const CONNECTION: &[u8; 10] = b"connection";
const CONTENT_LENGTH: &[u8; 14] = b"content-length";
const ACCEPT_ENCODING: &[u8; 15] = b"accept-encoding";
const TRANSFER_ENCODING: &[u8; 17] = b"transfer-encoding";

/// The names, lower case, at most one per length: a query is told apart by its length first.
const NAMES: [&[u8]; 7] =
    [HOST, EXPECT, UPGRADE, CONNECTION, CONTENT_LENGTH, ACCEPT_ENCODING, TRANSFER_ENCODING];

/// Which of [`NAMES`] `name` is, compared case-insensitively.
#[inline]
pub(super) fn which(name: &[u8]) -> Option<usize> {
    let (k, same) = candidate(name)?;
    (same || name.eq_ignore_ascii_case(NAMES[k])).then_some(k)
}

/// Which of [`NAMES`] the stored (lower-case) `name` is.
#[inline]
fn which_stored(name: &[u8]) -> Option<usize> {
    let (k, same) = candidate(name)?;
    same.then_some(k)
}

/// The name of `name`'s length, and whether `name` is it byte for byte.
#[inline]
fn candidate(name: &[u8]) -> Option<(usize, bool)> {
    // Compared as arrays of a known length: no call, and folded away for a constant name.
    Some(match name.len() {
        4 => (0, name == HOST),
        6 => (1, name == EXPECT),
        7 => (2, name == UPGRADE),
        10 => (3, name == CONNECTION),
        14 => (4, name == CONTENT_LENGTH),
        15 => (5, name == ACCEPT_ENCODING),
        17 => (6, name == TRANSFER_ENCODING),
        _ => return None,
    })
}

/// [`Index::first`] of a name whose first field sits past the indices a byte holds.
const FAR: u8 = u8::MAX;

/// Per known name, where its fields are among the entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Index {
    /// 0 when absent, else 1 + the index of the first field ([`FAR`] when that does not fit).
    first: [u8; NAMES.len()],
    /// A bit per name that appears more than once.
    repeated: u8,
}

impl Index {
    /// Notes entry `i`, whose stored (lower-case) name is `name`, if that is a known one;
    /// entries are noted in order.
    #[inline]
    pub(super) fn note_name(&mut self, name: &[u8], i: usize) {
        if let Some(k) = which_stored(name) {
            self.note(k, i);
        }
    }

    /// Notes that entry `i` is named `NAMES[k]`; entries are noted in order.
    #[inline]
    fn note(&mut self, k: usize, i: usize) {
        match self.first[k] {
            0 => self.first[k] = u8::try_from(i + 1).ok().filter(|&n| n != FAR).unwrap_or(FAR),
            _ => self.repeated |= 1 << k,
        }
    }

    /// The entries among `0..len` where fields named `NAMES[k]` can be: none, the one, or
    /// from the first to the end.
    #[inline]
    pub(super) fn span(&self, k: usize, len: usize) -> (usize, usize) {
        match self.first[k] {
            0 => (0, 0),
            FAR => (0, len),
            n => {
                let at = usize::from(n - 1);
                if self.repeated & (1 << k) == 0 {
                    (at, (at + 1).min(len))
                } else {
                    (at, len)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_told_apart_by_length_then_bytes() {
        for (k, name) in NAMES.iter().enumerate() {
            assert_eq!(which(name), Some(k));
            assert_eq!(which(&name.to_ascii_uppercase()), Some(k));
            assert_eq!(which_stored(name), Some(k));
            assert_eq!(which_stored(&name.to_ascii_uppercase()), None);
        }
        for other in ["cookie", "accept-language", "accept-charset", "x-host", "hosts", "", "content-type"] {
            assert_eq!(which(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn spans() {
        let mut ix = Index::default();
        assert_eq!(ix.span(0, 5), (0, 0));
        ix.note(0, 2);
        assert_eq!(ix.span(0, 5), (2, 3));
        ix.note(0, 4);
        assert_eq!(ix.span(0, 5), (2, 5));
        ix.note(1, 300);
        assert_eq!(ix.span(1, 400), (0, 400));
    }
}
