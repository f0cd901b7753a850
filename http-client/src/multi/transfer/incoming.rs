//! A response body as it arrives: its framing undone (length, chunks, the end of the
//! connection), its bytes kept or handed to the caller's sink, within the body limit.

use super::*;

impl Incoming {
    /// Takes bytes of the body from the wire, through its framing. Bytes past the end of the
    /// body mean the connection cannot carry another request.
    pub(super) fn feed(&mut self, mut input: &[u8], max_body: u64, sink: &mut Option<Sink>) -> Result<()> {
        match self.framing {
            Framing::None => self.keep &= input.is_empty(),
            Framing::Length(_) => {
                let take = usize::try_from(self.left).unwrap_or(usize::MAX).min(input.len());
                self.deliver(&input[..take], max_body, sink)?;
                self.left -= take as u64;
                self.done = self.left == 0;
                self.keep &= take == input.len();
            }
            Framing::UntilClose => self.deliver(input, max_body, sink)?,
            Framing::Chunked => {
                let mut out = [0u8; 4096];
                // Bounded: each round uses input or gives bytes, or stops.
                while !input.is_empty() && !self.done {
                    let decoder = self.chunked.as_mut().expect("a chunked body has its decoder");
                    let (used, produced) = decoder.decode(input, &mut out).map_err(|e| {
                        if e.kind() == Some(ErrorKind::BodyTooLarge) {
                            Error::BodyTooLarge { limit: max_body }
                        } else {
                            Error::from(e)
                        }
                    })?;
                    input = &input[used..];
                    self.done = decoder.is_done();
                    self.deliver(&out[..produced], max_body, sink)?;
                    if used == 0 && produced == 0 {
                        break;
                    }
                }
                self.keep &= input.is_empty();
            }
        }
        Ok(())
    }

    /// Keeps bytes of the body, or gives them to the caller's function.
    fn deliver(&mut self, bytes: &[u8], max_body: u64, sink: &mut Option<Sink>) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.streamed {
            if let Some(f) = sink.as_mut() {
                f(bytes);
            }
            return Ok(());
        }
        if (self.bytes.len() + bytes.len()) as u64 > max_body {
            return Err(Error::BodyTooLarge { limit: max_body });
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
}
