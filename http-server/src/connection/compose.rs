//! Responses into bytes: the one framing decision every writer uses applied to a handler's
//! response, its head (and a small body) gathered in the worker's buffer, a larger body
//! left for the engine to write, and the worker's path for bodies that handler code
//! writes itself; also the server's own error answers.

use std::any::Any;
use std::io;

use http_utils::io::ChunkedWriter;
use http_utils::{Headers, Method, Version};

use super::feed::FeedOut;
use super::upgrade::UpgradeJob;
use super::write::OutBody;
use super::{CloseReason, Worker};
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

/// Writes a complete error response with `Connection: close` into the worker's buffer, for
/// a request that could not be parsed or must be cut off; returns the body's length.
pub(super) fn error_response(w: &mut Worker<'_>, status: u16, message: &str, version: Version) -> u64 {
    let engine = w.engine;
    let table = engine.registry.snapshot();
    let html = table.error_page(status, message);
    let p = plan(engine.site.protocol, version, &Method::Get, status, Some(html.len() as u64), true, true);
    write_head(
        &mut w.wbuf,
        &mut w.heads,
        &Head {
            date: engine.site.clock.unix_secs(),
            version: engine.site.protocol,
            status,
            reason: None,
            content_type: Some(&std::borrow::Cow::Borrowed("text/html; charset=utf-8")),
            headers: &Headers::new(),
            framing: p.framing,
            connection: p.connection,
        },
    );
    w.wbuf.extend_from_slice(html.as_bytes());
    html.len() as u64
}

/// A message for a panic payload.
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// What writing a response produced: the body bytes it sends (or sent), and a body left for
/// the engine to send after the head.
pub(super) struct Sent {
    pub bytes: u64,
    pub body: Option<OutBody>,
}

/// Writes a handler's response head (and a small body) into the wire's buffer; a larger
/// body is handed back for the engine. Bodies that handler code writes (a writer) are
/// written here, on the worker, through the wire.
pub(super) fn write_response(
    site: &Site,
    wire: &mut Wire<'_>,
    method: &Method,
    version: Version,
    r: &mut Response,
    close: &mut Option<CloseReason>,
) -> io::Result<Sent> {
    match r.take_takeover() {
        Some(Takeover::Upgrade { protocol, handler, share: Some(share) }) => {
            return Ok(write_switch(site, wire, r, UpgradeJob { protocol, handler, share }, close))
        }
        Some(Takeover::Upgrade { share: None, .. }) => {
            // Not agreed to by the server: cannot happen, but never switch unchecked.
            *r = Response::new(500);
        }
        Some(Takeover::Feed(feed)) => {
            r.body = ResponseBody::Empty;
            let p =
                framed(plan(site.protocol, version, method, r.status, None, true, close.is_some()), close);
            write_response_head(site, wire, r, p);
            if !p.send_body {
                return Ok(Sent { bytes: 0, body: None });
            }
            let chunked = p.framing == BodyFraming::Chunked;
            let out = FeedOut::new(feed, chunked, site.clock.now());
            return Ok(Sent { bytes: 0, body: Some(OutBody::Feed(out)) });
        }
        None => {}
    }
    let status = r.status;
    let len = r.body.len();
    let p = framed(plan(site.protocol, version, method, status, len, true, close.is_some()), close);
    write_response_head(site, wire, r, p);
    let none = Sent { bytes: 0, body: None };
    if !p.send_body {
        return Ok(none);
    }
    let body = std::mem::take(&mut r.body);
    let bytes = len.unwrap_or(0);
    Ok(match body {
        ResponseBody::Empty => none,
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
            let chunked = p.framing == BodyFraming::Chunked;
            let trailers = if chunked { r.take_trailers() } else { None };
            Sent { bytes, body: Some(OutBody::Reader { reader, left: length, chunked, trailers }) }
        }
        ResponseBody::Writer(f) => {
            let sent = if p.framing == BodyFraming::Chunked {
                let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
                f(&mut cw)?;
                let n = cw.n;
                cw.inner.finish(r.trailers())?;
                n
            } else {
                let mut cw = Counting { inner: WireWriter(wire), n: 0 };
                f(&mut cw)?;
                cw.n
            };
            Sent { bytes: sent, body: None }
        }
        ResponseBody::WriterWithTrailers(f) => {
            let sent = if p.framing == BodyFraming::Chunked {
                let mut cw = Counting { inner: ChunkedWriter::new(WireWriter(wire)), n: 0 };
                let mut trailers = f(&mut cw)?;
                let n = cw.n;
                if let Some(fixed) = r.trailers() {
                    for (name, value) in fixed.iter() {
                        let _ = trailers.append(name, value);
                    }
                }
                cw.inner.finish(Some(&trailers))?;
                n
            } else {
                let mut cw = Counting { inner: WireWriter(wire), n: 0 };
                f(&mut cw)?;
                cw.n
            };
            Sent { bytes: sent, body: None }
        }
    })
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
