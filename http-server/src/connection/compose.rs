//! Responses into bytes: the one framing decision every writer uses applied to a handler's
//! response, its head (and a small body) gathered in the worker's buffer, a larger body
//! left for the engine to write, and the worker's path for bodies that handler code
//! writes itself.

use std::io;

use http_utils::io::ChunkedWriter;
use http_utils::{Headers, Method, Version};

use super::answer::{OutBody, UpgradeJob};
use super::feed::FeedOut;
use super::CloseReason;
use crate::handler::response::{Response, ResponseBody, Takeover};
use crate::handler::site::Site;
use crate::io::head::{plan, write_head, BodyFraming, ConnectionField, Head, Plan};
use crate::io::wire::Wire;

/// Bodies up to this size are copied after the head, so that small responses (and the
/// responses to pipelined requests) go out in one write.
const COPY_BODY_AT_MOST: usize = 16 * 1024;

/// The framing of a response as [`plan`] decides it, and whether the connection must close
/// for it (a body that runs until the close).
fn framed(p: Plan, close: &mut Option<CloseReason>) -> Plan {
    if p.until_close {
        *close = close.or(Some(CloseReason::ResponseUntilClose));
    }
    p
}

/// What writing a response produced: the body bytes it sends (or sent), and a body left for
/// the engine to send after the head.
pub(crate) struct Sent {
    pub bytes: u64,
    pub body: Option<OutBody>,
}

/// Writes a handler's response head (and a small body) into the wire's buffer; a larger
/// body is handed back for the engine. Bodies that handler code writes (a writer) are
/// written here, on the worker, through the wire.
pub(crate) fn write_response(
    site: &Site,
    wire: &mut Wire<'_>,
    method: &Method,
    version: Version,
    r: &mut Response,
    close: &mut Option<CloseReason>,
) -> io::Result<Sent> {
    if let Some(takeover) = r.take_takeover() {
        if let Some(sent) = write_takeover(site, wire, (method, version), r, takeover, close) {
            return Ok(sent);
        }
    }
    let len = r.body.len();
    let p = framed(plan(site.protocol, version, method, r.status, len, true, close.is_some()), close);
    write_response_head(site, wire, r, p);
    if !p.send_body {
        return Ok(Sent { bytes: 0, body: None });
    }
    let bytes = len.unwrap_or(0);
    let chunked = p.framing == BodyFraming::Chunked;
    Ok(match std::mem::take(&mut r.body) {
        ResponseBody::Empty => Sent { bytes: 0, body: None },
        ResponseBody::Static(b) if b.len() <= COPY_BODY_AT_MOST => {
            wire.wbuf.extend_from_slice(b);
            Sent { bytes, body: None }
        }
        ResponseBody::Static(data) => Sent { bytes, body: Some(OutBody::Static { data, pos: 0 }) },
        ResponseBody::Bytes(b) if b.len() <= COPY_BODY_AT_MOST => {
            wire.wbuf.extend_from_slice(&b);
            Sent { bytes, body: None }
        }
        ResponseBody::Bytes(data) => Sent { bytes, body: Some(OutBody::Bytes { data, pos: 0 }) },
        ResponseBody::File { file, offset, length } => {
            Sent { bytes, body: Some(OutBody::File { file, pos: offset, end: offset + length }) }
        }
        ResponseBody::Stream { reader, length } => {
            let trailers = if chunked { r.take_trailers() } else { None };
            Sent { bytes, body: Some(OutBody::Reader { reader, left: length, chunked, trailers }) }
        }
        ResponseBody::Writer(f) => {
            Sent { bytes: write_by_handler(wire, chunked, r, |w| f(w).map(|()| None))?, body: None }
        }
        ResponseBody::WriterWithTrailers(f) => {
            Sent { bytes: write_by_handler(wire, chunked, r, |w| f(w).map(Some))?, body: None }
        }
    })
}

/// Writes the head of a response that hands its connection on (an agreed upgrade) or whose
/// body a stream sender feeds; `None` when the response is to be written as any other.
fn write_takeover(
    site: &Site,
    wire: &mut Wire<'_>,
    (method, version): (&Method, Version),
    r: &mut Response,
    takeover: Takeover,
    close: &mut Option<CloseReason>,
) -> Option<Sent> {
    match takeover {
        Takeover::Upgrade { protocol, handler, share: Some(share) } => {
            Some(write_switch(site, wire, r, UpgradeJob { protocol, handler, share }, close))
        }
        Takeover::Upgrade { share: None, .. } => {
            // Not agreed to by the server: cannot happen, but never switch unchecked.
            *r = Response::new(500);
            None
        }
        Takeover::Feed(feed) => {
            r.body = ResponseBody::Empty;
            let p =
                framed(plan(site.protocol, version, method, r.status, None, true, close.is_some()), close);
            write_response_head(site, wire, r, p);
            if !p.send_body {
                return Some(Sent { bytes: 0, body: None });
            }
            let chunked = p.framing == BodyFraming::Chunked;
            let out = FeedOut::new(feed, chunked, site.clock.now());
            Some(Sent { bytes: 0, body: Some(OutBody::Feed(out)) })
        }
    }
}

/// Runs a handler's writer over the wire (chunked when `chunked`, with the trailers it
/// returns and the response's own after the last chunk): the body bytes it wrote.
fn write_by_handler(
    wire: &mut Wire<'_>,
    chunked: bool,
    r: &Response,
    f: impl FnOnce(&mut dyn io::Write) -> io::Result<Option<Headers>>,
) -> io::Result<u64> {
    if !chunked {
        let mut cw = Counting { inner: WireWriter(wire), n: 0 };
        f(&mut cw)?;
        return Ok(cw.n);
    }
    let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
    let trailers = f(&mut cw)?;
    let n = cw.n;
    match trailers {
        Some(mut trailers) => {
            if let Some(fixed) = r.trailers() {
                for (name, value) in fixed.iter_as_written() {
                    let _ = trailers.append(name, value);
                }
            }
            cw.inner.finish(Some(&trailers))?;
        }
        None => {
            cw.inner.finish(r.trailers())?;
        }
    }
    Ok(n)
}

/// Writes a response's head as `p` frames it.
fn write_response_head(site: &Site, wire: &mut Wire<'_>, r: &Response, p: Plan) {
    let reason = r.custom_reason();
    write_head(
        wire.wbuf,
        wire.heads,
        &Head {
            date: site.clock.unix_secs(),
            version: site.protocol,
            status: r.status,
            reason,
            content_type: r.content_type.as_ref(),
            headers: &r.headers,
            framing: p.framing,
            connection: p.connection,
        },
    );
}

/// Writes the `101 Switching Protocols` head of an agreed upgrade; the connection goes to
/// the upgrade handler once it is out.
fn write_switch(
    site: &Site,
    wire: &mut Wire<'_>,
    r: &mut Response,
    job: UpgradeJob,
    close: &mut Option<CloseReason>,
) -> Sent {
    r.status = 101;
    r.content_type = None;
    r.headers.remove("upgrade");
    let _ = r.headers.append("Upgrade", &job.protocol);
    let p = Plan {
        framing: BodyFraming::NoBody,
        connection: ConnectionField::Upgrade,
        send_body: false,
        until_close: false,
    };
    write_response_head(site, wire, r, p);
    *close = Some(CloseReason::Upgraded);
    Sent { bytes: 0, body: Some(OutBody::Upgrade(Box::new(job))) }
}

/// `Write` over the connection's gathered output.
struct WireWriter<'w, 'a>(&'w mut Wire<'a>);

impl io::Write for WireWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Counts the body bytes a handler's writer produces.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: io::Write> io::Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n += k as u64;
        Ok(k)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
