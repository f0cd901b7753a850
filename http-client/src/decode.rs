//! gzip and deflate response bodies (feature `gzip`), and brotli (`brotli`) and zstd
//! (`zstd`), decoded while they are read.
//!
//! The decoder reads the encoded body through its framing (`Content-Length`, chunked, or until
//! close), so it never reads past the body, and it always reads the body to its end: after each
//! gzip member (or the deflate stream) it asks for more, and that is where the framing reports
//! the end of the body (and the connection goes back to the pool). gzip members that follow
//! one another are decoded as one body (RFC 1952 §2.2). `deflate` is the zlib format (RFC
//! 1950, as RFC 9110 §8.4.1.2 says), or raw deflate (RFC 1951) as some servers send it: the
//! first two bytes tell which. A bad header, a bad check sum or length in a trailer, bytes
//! after the end that do not start another gzip member, and a stream that ends early are
//! errors ([`Error::Decode`]), never a shorter body. An empty body stays empty. brotli keeps a
//! window of at most 16 MiB (the format's most), zstd at most 8 MiB (see `zstd.rs`).
//!
//! How many decoded bytes are accepted is the reader's business: [`Response::bytes`] stops at
//! the client's body cap, so a small body that inflates to gigabytes is refused there.
//!
//! [`Response::bytes`]: crate::Response::bytes

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

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

/// The content codings decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
    #[cfg(feature = "brotli")]
    Brotli,
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Coding {
    /// The coding's name in `Content-Encoding` (and in errors).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            #[cfg(feature = "brotli")]
            Coding::Brotli => "br",
            #[cfg(feature = "zstd")]
            Coding::Zstd => "zstd",
        }
    }

    /// The coding a `Content-Encoding` name means, when it is one decoded here.
    pub(crate) fn from_name(name: &str) -> Option<Coding> {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("gzip") || is("x-gzip") {
            return Some(Coding::Gzip);
        }
        if is("deflate") {
            return Some(Coding::Deflate);
        }
        #[cfg(feature = "brotli")]
        if is("br") {
            return Some(Coding::Brotli);
        }
        #[cfg(feature = "zstd")]
        if is("zstd") {
            return Some(Coding::Zstd);
        }
        None
    }
}

/// The `Accept-Encoding` of requests: every coding compiled in.
pub(crate) const ACCEPT_ENCODING: &str = match (cfg!(feature = "brotli"), cfg!(feature = "zstd")) {
    (true, true) => "gzip, deflate, br, zstd",
    (true, false) => "gzip, deflate, br",
    (false, true) => "gzip, deflate, zstd",
    (false, false) => "gzip, deflate",
};

/// The buffer of encoded bytes inside the brotli decoder.
#[cfg(feature = "brotli")]
const BROTLI_BUF: usize = 4096;

/// The decoder, made when the first encoded bytes are there (making it reads the gzip
/// header; for deflate, the first two bytes say zlib or raw).
enum Decoder {
    Waiting(BufReader<Tap>),
    Gzip(MultiGzDecoder<BufReader<Tap>>),
    Zlib(ZlibDecoder<BufReader<Tap>>),
    Raw(DeflateDecoder<BufReader<Tap>>),
    #[cfg(feature = "brotli")]
    Brotli(Box<brotli_decompressor::Decompressor<BufReader<Tap>>>),
    #[cfg(feature = "zstd")]
    Zstd(crate::zstd::Zstd<BufReader<Tap>>),
}

impl Decoder {
    fn input(&self) -> &BufReader<Tap> {
        match self {
            Decoder::Waiting(input) => input,
            Decoder::Gzip(d) => d.get_ref(),
            Decoder::Zlib(d) => d.get_ref(),
            Decoder::Raw(d) => d.get_ref(),
            #[cfg(feature = "brotli")]
            Decoder::Brotli(d) => d.get_ref(),
            #[cfg(feature = "zstd")]
            Decoder::Zstd(d) => d.get_ref(),
        }
    }

    fn input_mut(&mut self) -> &mut BufReader<Tap> {
        match self {
            Decoder::Waiting(input) => input,
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zlib(d) => d.get_mut(),
            Decoder::Raw(d) => d.get_mut(),
            #[cfg(feature = "brotli")]
            Decoder::Brotli(d) => d.get_mut(),
            #[cfg(feature = "zstd")]
            Decoder::Zstd(d) => d.get_mut(),
        }
    }

    fn into_input(self) -> BufReader<Tap> {
        match self {
            Decoder::Waiting(input) => input,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zlib(d) => d.into_inner(),
            Decoder::Raw(d) => d.into_inner(),
            #[cfg(feature = "brotli")]
            Decoder::Brotli(d) => d.into_inner(),
            #[cfg(feature = "zstd")]
            Decoder::Zstd(d) => d.into_inner(),
        }
    }
}

/// True when `start` (the first bytes of a deflate body) is a zlib header: compression
/// method 8, a window of at most 32 KiB, and a header check that holds (RFC 1950 §2.2).
fn is_zlib(start: &[u8]) -> bool {
    match start {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        [cmf] => cmf & 0x0f == 8 && cmf >> 4 <= 7,
        [] => false,
    }
}

/// A gzip or deflate body being decoded.
pub(crate) struct Gunzip {
    decoder: Option<Decoder>,
    coding: Coding,
    state: State,
}

impl Gunzip {
    pub(crate) fn new(raw: RawBody, coding: Coding) -> Gunzip {
        let input = BufReader::with_capacity(INPUT_BUF, Tap { raw, failed: false });
        Gunzip { decoder: Some(Decoder::Waiting(input)), coding, state: State::Start }
    }

    /// The coding being decoded.
    pub(crate) fn coding(&self) -> Coding {
        self.coding
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
            Some(d) => d.into_input().into_inner().raw,
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
            decode_error(self.coding, e)
        }
    }

    /// After a deflate or brotli stream ended: the encoded body must end there too.
    fn at_stream_end(&mut self) -> io::Result<()> {
        let Some(decoder) = &mut self.decoder else { return Ok(()) };
        #[cfg(feature = "brotli")]
        if let Decoder::Brotli(d) = decoder {
            // A second read at the end fails when the decoder holds bytes past the stream.
            let mut probe = [0u8; 1];
            if d.read(&mut probe)? != 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "data after the end of the stream"));
            }
        }
        match decoder.input_mut().fill_buf() {
            Ok([]) => Ok(()),
            Ok(_) => Err(io::Error::new(io::ErrorKind::InvalidData, "bytes after the end of the stream")),
            Err(e) => Err(e),
        }
    }
}

fn decode_error(coding: Coding, source: io::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Decode { coding: coding.name().to_owned(), source })
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
                let coding = self.coding;
                self.decoder = match self.decoder.take() {
                    Some(Decoder::Waiting(input)) => Some(match coding {
                        Coding::Gzip => Decoder::Gzip(MultiGzDecoder::new(input)),
                        Coding::Deflate if is_zlib(input.buffer()) => Decoder::Zlib(ZlibDecoder::new(input)),
                        Coding::Deflate => Decoder::Raw(DeflateDecoder::new(input)),
                        #[cfg(feature = "brotli")]
                        Coding::Brotli => Decoder::Brotli(Box::new(brotli_decompressor::Decompressor::new(
                            input, BROTLI_BUF,
                        ))),
                        #[cfg(feature = "zstd")]
                        Coding::Zstd => Decoder::Zstd(crate::zstd::Zstd::new(input)),
                    }),
                    other => other,
                };
                self.state = State::Body;
            }
            State::Body => {}
        }
        let read = match &mut self.decoder {
            Some(Decoder::Gzip(d)) => d.read(buf),
            Some(Decoder::Zlib(d)) => d.read(buf),
            Some(Decoder::Raw(d)) => d.read(buf),
            #[cfg(feature = "brotli")]
            Some(Decoder::Brotli(d)) => d.read(buf),
            #[cfg(feature = "zstd")]
            Some(Decoder::Zstd(d)) => d.read(buf),
            _ => unreachable!("the decoder runs once the body has begun"),
        };
        match read {
            Ok(0) => {
                if self.coding != Coding::Gzip {
                    // The stream ended; the encoded body must end with it (gzip looks for a
                    // next member itself).
                    if let Err(e) = self.at_stream_end() {
                        return Err(self.fail(e));
                    }
                }
                // The decoder stops only where the encoded body ended.
                if !self.raw().is_complete() {
                    let e = io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended early");
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
