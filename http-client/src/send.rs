//! Sending a request and reading response heads: the head goes out in one write (with a small
//! body), a larger body in pieces while the client watches for an early answer.
//!
//! A server or proxy may answer before it has read the whole body (a 413, a 405, a proxy's 403
//! or 407) and then stop reading or close. RFC 9112 §9.5: a client sending a body watches for
//! such a response and stops sending. Between pieces of the body, and whenever a wait for room
//! to write passes a short slice, the socket is looked at; a final response there ends the
//! body (the connection is then closed after the response, since the server did not get the
//! request it framed), an interim one (`100 Continue`) is skipped. When a write fails because
//! the server reset or closed the connection, what it sent before is read all the same.

use std::io::{self, BufRead};

use http_utils::io::read_response_head;
use http_utils::{encode_chunk, encode_last_chunk, Body, Limits, Request, ResponseHead};

use crate::conn::{Conn, Watched};
use crate::error::{Error, TimeoutKind};

/// Bodies up to this size are sent in the same write as the head.
const COALESCE_BODY: usize = 16 * 1024;

/// Bytes of a streamed body read from the caller's reader at a time.
const STREAM_PIECE: usize = 64 * 1024;

/// Most interim responses taken while one request body is sent.
const MAX_INTERIM: usize = 100;

/// How a request went out.
pub(crate) enum Sent {
    /// Head and body, all of it.
    All,
    /// A final response came before the body was all sent; here is its head.
    Answered(ResponseHead),
}

/// A failure to read a response head, and whether any byte of a response had arrived.
pub(crate) type HeadFailure = (Error, bool);

/// Writes the head and the body, watching for an early answer while the body goes out.
///
/// # Errors
/// A write error (the caller may still find a response after a reset), a read error of an
/// early answer (as [`Error`] inside the `io::Error`), or `RequestBodyLength`.
pub(crate) fn send_request(
    conn: &mut Conn,
    req: &mut Request,
    head: &[u8],
    limits: &Limits,
) -> io::Result<Sent> {
    match req.body_mut() {
        Body::Empty => conn.write_all(head)?,
        Body::Bytes(b) if b.len() <= COALESCE_BODY => {
            let mut out = Vec::with_capacity(head.len() + b.len());
            out.extend_from_slice(head);
            out.extend_from_slice(b);
            conn.write_all(&out)?;
        }
        Body::Bytes(b) => {
            conn.write_all(head)?;
            if let Some(answer) = watched(conn, b, limits)? {
                return Ok(Sent::Answered(answer));
            }
        }
        Body::Stream { reader, length } => {
            conn.write_all(head)?;
            let mut piece = vec![0u8; STREAM_PIECE];
            let mut framed = Vec::new();
            let mut sent = 0u64;
            // Bounded by the stream: each round sends what one read gave, until it ends.
            loop {
                let want = match *length {
                    // One byte past the length, to notice a stream that is too long.
                    Some(expected) => usize::try_from(expected.saturating_sub(sent).saturating_add(1))
                        .unwrap_or(STREAM_PIECE)
                        .min(STREAM_PIECE),
                    None => STREAM_PIECE,
                };
                let n = match reader.read(&mut piece[..want]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let bytes: &[u8] = match *length {
                    Some(expected) => {
                        let actual = sent + n as u64;
                        if actual > expected || (n == 0 && actual < expected) {
                            let err = Error::RequestBodyLength { expected, actual };
                            return Err(io::Error::new(io::ErrorKind::InvalidInput, err));
                        }
                        &piece[..n]
                    }
                    None => {
                        framed.clear();
                        if n == 0 {
                            encode_last_chunk(None, &mut framed);
                        } else {
                            encode_chunk(&piece[..n], &mut framed);
                        }
                        &framed
                    }
                };
                if let Some(answer) = watched(conn, bytes, limits)? {
                    return Ok(Sent::Answered(answer));
                }
                if n == 0 {
                    break;
                }
                sent += n as u64;
            }
        }
    }
    conn.flush()?;
    Ok(Sent::All)
}

/// Writes `bytes` of a body, watching for an answer; returns the final response head when
/// one came first. Interim responses are read and skipped, and the body goes on.
fn watched(conn: &mut Conn, bytes: &[u8], limits: &Limits) -> io::Result<Option<ResponseHead>> {
    let mut done = 0;
    // Bounded: each round either sends all of the rest or reads one response head.
    for _ in 0..MAX_INTERIM {
        match conn.write_watching(&bytes[done..])? {
            Watched::Sent => return Ok(None),
            Watched::PeerSpoke { written } => {
                done += written;
                let head = read_one_head(conn, limits).map_err(|(e, _)| io::Error::other(e))?;
                if !head.is_interim() {
                    return Ok(Some(head));
                }
            }
        }
    }
    Err(io::Error::other(format!("more than {MAX_INTERIM} interim responses during one request body")))
}

/// Reads one response head (interim or final). On error, also says whether any byte of a
/// response had arrived.
pub(crate) fn read_one_head(conn: &mut Conn, limits: &Limits) -> Result<ResponseHead, HeadFailure> {
    // Whether anything arrived at all decides whether a failed request may be sent again.
    match conn.fill_buf() {
        Ok([]) => return Err((Error::ConnectionClosed, false)),
        Ok(_) => {}
        Err(e) => return Err((Error::from_io(e, TimeoutKind::Read), false)),
    }
    match read_response_head(conn, limits) {
        Ok(Some(head)) => Ok(head),
        Ok(None) => Err((Error::ConnectionClosed, true)),
        Err(http_utils::Error::Io(e)) => Err((Error::from_io(e, TimeoutKind::Read), true)),
        Err(e) => Err((Error::head_limit(&e, limits).unwrap_or_else(|| Error::from(e)), true)),
    }
}

/// Reads response heads until a final one (1xx interim responses are skipped).
/// On error, also says whether any byte of a response had arrived.
pub(crate) fn read_final_head(conn: &mut Conn, limits: &Limits) -> Result<ResponseHead, HeadFailure> {
    let mut head = read_one_head(conn, limits)?;
    // Bounded by the read timeouts: each round takes one head from the peer.
    while head.is_interim() {
        head = read_one_head(conn, limits).map_err(|(e, _)| (e, true))?;
    }
    Ok(head)
}
