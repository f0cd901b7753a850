//! The chunked transfer coding on the way out, over any writer.

use std::io::{self, IoSlice, Write};

use crate::chunked::{chunk_size_line, encode_last_chunk};
use crate::headers::Headers;

/// Room kept at the front of the chunk buffer for the size line.
const SIZE_ROOM: usize = 18;

/// A [`Write`]r that sends what is written to it as chunks (RFC 9112 §7.1).
///
/// Small writes are gathered into one chunk of up to `capacity` bytes (8 KiB by default); a
/// write at least that large goes out as a chunk of its own, without copying. Call
/// [`finish`](ChunkedWriter::finish) to send the last chunk and trailers: dropping the writer
/// leaves the body unterminated.
///
/// ```
/// use std::io::Write;
/// use http_utils::io::ChunkedWriter;
/// let mut w = ChunkedWriter::new(Vec::new());
/// w.write_all(b"hello ").unwrap();
/// w.write_all(b"world").unwrap();
/// let wire = w.finish(None).unwrap();
/// assert_eq!(wire, b"b\r\nhello world\r\n0\r\n\r\n");
/// ```
#[derive(Debug)]
pub struct ChunkedWriter<W: Write> {
    inner: W,
    /// `SIZE_ROOM` reserved bytes, then the pending chunk data.
    buf: Vec<u8>,
    capacity: usize,
}

impl<W: Write> ChunkedWriter<W> {
    /// A writer that gathers small writes into chunks of up to 8 KiB.
    pub fn new(inner: W) -> ChunkedWriter<W> {
        ChunkedWriter::with_capacity(inner, 8 * 1024)
    }

    /// A writer that gathers small writes into chunks of up to `capacity` bytes (at least 1).
    pub fn with_capacity(inner: W, capacity: usize) -> ChunkedWriter<W> {
        let capacity = capacity.max(1);
        let mut buf = Vec::with_capacity(SIZE_ROOM + capacity.min(64 * 1024) + 2);
        buf.resize(SIZE_ROOM, 0);
        ChunkedWriter { inner, buf, capacity }
    }

    fn pending(&self) -> usize {
        self.buf.len() - SIZE_ROOM
    }

    /// Turns the pending data into a framed chunk in `buf`; returns where the frame starts,
    /// or `None` when nothing is pending.
    fn frame_pending(&mut self) -> Option<usize> {
        let len = self.pending();
        if len == 0 {
            return None;
        }
        let mut line = [0u8; 18];
        let n = chunk_size_line(len, &mut line);
        let start = SIZE_ROOM - n;
        self.buf[start..SIZE_ROOM].copy_from_slice(&line[..n]);
        self.buf.extend_from_slice(b"\r\n");
        Some(start)
    }

    /// Sends the pending data as one chunk.
    fn flush_chunk(&mut self) -> io::Result<()> {
        if let Some(start) = self.frame_pending() {
            let result = self.inner.write_all(&self.buf[start..]);
            self.buf.truncate(SIZE_ROOM);
            result?;
        }
        Ok(())
    }

    /// Sends the pending data, the last chunk and `trailers`, flushes, and gives the inner
    /// writer back. The last bytes go out in one write.
    ///
    /// # Errors
    /// Errors of the inner writer.
    pub fn finish(mut self, trailers: Option<&Headers>) -> io::Result<W> {
        let start = self.frame_pending().unwrap_or(SIZE_ROOM);
        encode_last_chunk(trailers, &mut self.buf);
        self.inner.write_all(&self.buf[start..])?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly corrupts the chunked stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

/// Writes three slices fully, with vectored writes where the writer supports them.
fn write_all_3<W: Write + ?Sized>(w: &mut W, parts: [&[u8]; 3]) -> io::Result<()> {
    let mut idx = 0;
    let mut off = 0;
    while idx < parts.len() {
        if off == parts[idx].len() {
            idx += 1;
            off = 0;
            continue;
        }
        let mut slices = [IoSlice::new(&[]), IoSlice::new(&[]), IoSlice::new(&[])];
        slices[0] = IoSlice::new(&parts[idx][off..]);
        for (k, p) in parts[idx + 1..].iter().enumerate() {
            slices[k + 1] = IoSlice::new(p);
        }
        let mut n = match w.write_vectored(&slices[..parts.len() - idx]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "failed to write chunk")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        while n > 0 && idx < parts.len() {
            let left = parts[idx].len() - off;
            if n >= left {
                n -= left;
                idx += 1;
                off = 0;
            } else {
                off += n;
                n = 0;
            }
        }
    }
    Ok(())
}

impl<W: Write> Write for ChunkedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.pending() + data.len() <= self.capacity {
            self.buf.extend_from_slice(data);
            return Ok(data.len());
        }
        self.flush_chunk()?;
        if data.len() < self.capacity {
            self.buf.extend_from_slice(data);
            return Ok(data.len());
        }
        let mut line = [0u8; 18];
        let n = chunk_size_line(data.len(), &mut line);
        write_all_3(&mut self.inner, [&line[..n], data, b"\r\n"])?;
        Ok(data.len())
    }

    /// Sends the pending data as a chunk and flushes the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.flush_chunk()?;
        self.inner.flush()
    }
}
