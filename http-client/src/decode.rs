//! gzip response bodies (feature `gzip`), decoded while they are read.
//!
//! The decoder reads the encoded body through its framing (`Content-Length`, chunked, or until
//! close), so it never reads past the body, and it always reads the body to its end: after each
//! gzip member it asks for more, and that is where the framing reports the end of the body (and
//! the connection goes back to the pool). Members that follow one another are decoded as one
//! body (RFC 1952 §2.2). A bad header, a bad check sum or length in a member's trailer, bytes
//! after a member that do not start another one, and a stream that ends inside a member are
//! errors ([`Error::Decode`]), never a shorter body. An empty body stays empty.
//!
//! How many decoded bytes are accepted is the reader's business: [`Response::bytes`] stops at
//! the client's body cap, so a small body that inflates to gigabytes is refused there.
//!
//! [`Response::bytes`]: crate::Response::bytes

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use crate::error::Error;
use crate::wire::RawBody;

/// Size of the buffer of encoded bytes.
const INPUT_BUF: usize = 16 * 1024;

/// The encoded body, noting whether a failure came from it (the connection, the framing, a
/// timeout) rather than from the gzip data.
struct Tap {
    raw: RawBody,
    failed: bool,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.raw.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed = true;
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing read yet.
    Start,
    /// Decoding.
    Body,
    /// Decoded to its end, and the encoded body read to its end.
    Done,
    /// An error was returned; every later read fails too.
    Failed,
}

/// The decoder, made when the first encoded bytes are there (making it reads the gzip
/// header).
enum Decoder {
    Waiting(BufReader<Tap>),
    Running(MultiGzDecoder<BufReader<Tap>>),
}

impl Decoder {
    fn input(&self) -> &BufReader<Tap> {
        match self {
            Decoder::Waiting(input) => input,
            Decoder::Running(d) => d.get_ref(),
        }
    }
}

/// A gzip body being decoded.
pub(crate) struct Gunzip {
    decoder: Option<Decoder>,
    state: State,
}

impl Gunzip {
    pub(crate) fn new(raw: RawBody) -> Gunzip {
        let input = BufReader::with_capacity(INPUT_BUF, Tap { raw, failed: false });
        Gunzip { decoder: Some(Decoder::Waiting(input)), state: State::Start }
    }

    fn input(&self) -> &BufReader<Tap> {
        // Always `Some` outside of `read`.
        match &self.decoder {
            Some(d) => d.input(),
            None => unreachable!("the decoder is only taken out inside read"),
        }
    }

    /// The encoded body.
    pub(crate) fn raw(&self) -> &RawBody {
        &self.input().get_ref().raw
    }

    /// The encoded body, to be read (or drained) without decoding. Encoded bytes already
    /// buffered for the decoder are dropped.
    pub(crate) fn into_raw(self) -> RawBody {
        match self.decoder {
            Some(Decoder::Waiting(input)) => input.into_inner().raw,
            Some(Decoder::Running(d)) => d.into_inner().into_inner().raw,
            None => unreachable!("the decoder is only taken out inside read"),
        }
    }

    /// True once the body has been decoded to its end.
    pub(crate) fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::Interrupted {
            return e;
        }
        self.state = State::Failed;
        if self.input().get_ref().failed {
            e
        } else {
            decode_error(e)
        }
    }
}

fn decode_error(source: io::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Decode { coding: "gzip".to_owned(), source })
}

impl Read for Gunzip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match self.state {
            State::Done => return Ok(0),
            State::Failed => return Err(io::Error::other("the body failed earlier")),
            State::Start => {
                let Some(Decoder::Waiting(input)) = &mut self.decoder else {
                    unreachable!("the decoder is made when the first bytes are there")
                };
                match input.fill_buf() {
                    // An empty body is an empty body, not a gzip stream cut short.
                    Ok([]) => {
                        self.state = State::Done;
                        return Ok(0);
                    }
                    Ok(_) => {}
                    Err(e) => return Err(self.fail(e)),
                }
                self.decoder = match self.decoder.take() {
                    Some(Decoder::Waiting(input)) => Some(Decoder::Running(MultiGzDecoder::new(input))),
                    other => other,
                };
                self.state = State::Body;
            }
            State::Body => {}
        }
        let Some(Decoder::Running(decoder)) = &mut self.decoder else {
            unreachable!("the decoder runs once the body has begun")
        };
        match decoder.read(buf) {
            Ok(0) => {
                // The decoder stops only where the encoded body ended.
                if !self.raw().is_complete() {
                    let e = io::Error::new(io::ErrorKind::UnexpectedEof, "gzip stream ended early");
                    return Err(self.fail(e));
                }
                self.state = State::Done;
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) => Err(self.fail(e)),
        }
    }
}
