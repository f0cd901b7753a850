//! Incremental UTF-8 validation: a text message is checked as its bytes arrive, across frame
//! and read boundaries, and refused at the first byte that cannot be part of valid UTF-8.

/// Validates a stream of bytes as UTF-8, piece by piece.
///
/// Only the up to three bytes of a sequence cut by a piece boundary are kept; everything
/// else is checked by `std::str::from_utf8`, which also refuses overlong forms, surrogates
/// and code points above U+10FFFF.
#[derive(Debug, Clone, Default)]
pub(crate) struct Utf8Validator {
    /// The start of a sequence the last piece ended inside.
    pending: [u8; 4],
    pending_len: usize,
}

/// The length of the sequence a valid lead byte starts.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

impl Utf8Validator {
    /// Checks the next piece. `Err(())` as soon as the bytes seen so far cannot be the start
    /// of valid UTF-8 (a sequence cut at the end of `data` is not an error yet).
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), ()> {
        if self.pending_len > 0 {
            let need = sequence_len(self.pending[0]);
            let take = (need - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_none() => return Ok(()),
                Err(_) => return Err(()),
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &data[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    /// True when the bytes so far end on a character boundary.
    pub(crate) fn is_complete(&self) -> bool {
        self.pending_len == 0
    }

    /// Forgets a cut sequence, for the next message.
    pub(crate) fn reset(&mut self) {
        self.pending_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Validator;

    fn feed_split(bytes: &[u8], at: usize) -> (Result<(), ()>, bool) {
        let mut v = Utf8Validator::default();
        let r = v.feed(&bytes[..at]).and_then(|()| v.feed(&bytes[at..]));
        (r, v.is_complete())
    }

    #[test]
    fn agrees_with_std_at_every_split() {
        let cases: &[&[u8]] = &[
            "κόσμε".as_bytes(),
            "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
            "\u{10FFFF}\u{FFFF}\u{7F}\u{80}".as_bytes(),
            &[0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90, 0x80, 0x80],
            &[0xed, 0xa0, 0x80],
            &[0xc0, 0xaf],
            &[0xe0, 0x80, 0xaf],
            &[0xf8, 0x88, 0x80, 0x80, 0x80],
            &[0xce, 0xba, 0xe1],
            &[0xff],
            b"",
        ];
        for bytes in cases {
            let valid = std::str::from_utf8(bytes).is_ok();
            for at in 0..=bytes.len() {
                let (r, complete) = feed_split(bytes, at);
                assert_eq!(r.is_ok() && complete, valid, "{bytes:x?} split at {at}");
            }
        }
    }

    #[test]
    fn fails_fast_before_the_end() {
        // κόσμε, then a code point above U+10FFFF: refused at its second byte.
        let mut v = Utf8Validator::default();
        assert!(v.feed(&[0xce, 0xba, 0xf4]).is_ok());
        assert!(v.feed(&[0x90]).is_err());
        let mut v = Utf8Validator::default();
        assert!(v.feed(&[b'a', 0xff]).is_err());
    }
}
