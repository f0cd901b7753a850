//! zstd bodies (feature `zstd`, with ruzstd): the frames of a body decoded one after another.
//!
//! ```text
//!   start: header of the next frame ──(skippable frame: skip it)──┐
//!     │            ^                                              │
//!     v            └──────────────────────────────────────────────┘
//!   decode a block ──> hand out what the window no longer needs ──> last block?
//!     ^                                                                  │ yes
//!     └──────────────── no ──────────────────────────────────────────────┤
//!                                          checksum holds, all handed out v
//!                                   more input: the next frame; none: the end
//! ```
//!
//! A frame may ask for a window of at most 8 MiB (RFC 9659: what HTTP decoders must
//! support, and what they may refuse past), so a body costs at most that much memory;
//! skippable frames at most 64 KiB in all. A frame's checksum, when it has one, must hold.

use std::io::{self, BufRead, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// Largest window a frame may ask for.
const MAX_WINDOW: u64 = 8 << 20;

/// Most bytes of skippable frames in one body.
const MAX_SKIPPED: u64 = 64 * 1024;

/// A zstd stream being decoded from `input`.
pub(crate) struct Zstd<R> {
    frame: Box<FrameDecoder>,
    input: R,
    /// False before the first frame and after the last.
    in_frame: bool,
    skipped: u64,
}

fn invalid(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<R: BufRead> Zstd<R> {
    pub(crate) fn new(input: R) -> Zstd<R> {
        let mut frame = Box::new(FrameDecoder::new());
        frame.set_max_window_size(MAX_WINDOW);
        Zstd { frame, input, in_frame: false, skipped: 0 }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.input
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.input
    }

    pub(crate) fn into_inner(self) -> R {
        self.input
    }

    /// Starts the next frame, skipping skippable ones; false at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        // Bounded: each round starts a frame, ends, or skips at least 8 bytes of the 64 KiB.
        loop {
            if self.input.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.frame.init(&mut self.input) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    self.skipped += 8 + u64::from(length);
                    if self.skipped > MAX_SKIPPED {
                        return Err(invalid("skippable frames of more than 64 KiB"));
                    }
                    let skip = u64::from(length);
                    if io::copy(&mut (&mut self.input).take(skip), &mut io::sink())? < skip {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "a skippable frame cut short",
                        ));
                    }
                }
                Err(e) => return Err(invalid(e)),
            }
        }
    }
}

impl<R: BufRead> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Bounded: each round hands out bytes, decodes a block (at most 128 KiB), or moves to
        // the next frame, which consumes input.
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            let n = self.frame.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if !self.frame.is_finished() {
                self.frame
                    .decode_blocks(&mut self.input, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(invalid)?;
                continue;
            }
            if let (Some(sent), Some(computed)) =
                (self.frame.get_checksum_from_data(), self.frame.get_calculated_checksum())
            {
                if sent != computed {
                    return Err(invalid("the frame's checksum does not match"));
                }
            }
            self.in_frame = false;
        }
    }
}
