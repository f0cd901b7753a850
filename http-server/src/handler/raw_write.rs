//! The egg's low-level writer (`http:write-response-header`): a handler writes its
//! response head itself ([`Context::write_response_header`]), then the body through
//! [`Write`] on the context, and returns [`Response::written`](crate::Response::written).

use std::io::{self, Write};

use http_utils::Headers;

use crate::handler::context::{Context, WrittenHead};
use crate::io::head::{plan, write_head, BodyFraming, Head};

impl Context<'_> {
    /// Writes a response head now (the egg's `http:write-response-header`): status `code`
    /// with reason `message`, `Date`, `Server`, and `headers`. Write the body with the
    /// [`Write`] methods of the context, then return [`Response::written`](crate::Response::written).
    ///
    /// With a `Content-Length` among `headers`, exactly that many bytes must follow and the
    /// connection may be kept; without one, the body runs until the connection closes.
    ///
    /// # Errors
    /// `InvalidInput` for a second head or an invalid header; errors of the connection.
    pub fn write_response_header(
        &mut self,
        code: u16,
        message: &str,
        headers: &[(&str, &str)],
    ) -> io::Result<()> {
        if self.written.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the response head was already written"));
        }
        let mut fields = Headers::with_capacity(headers.len(), 64);
        let mut content_type = None;
        for (n, v) in headers {
            if n.eq_ignore_ascii_case("content-type") {
                content_type = Some(crate::io::head::cleaned(std::borrow::Cow::Owned((*v).to_owned())));
                continue;
            }
            fields.append(n, v).map_err(io::Error::from)?;
        }
        let length = fields
            .content_length()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid Content-Length"))?;
        let site = self.site;
        // The handler writes raw bytes: without a length they run until the close.
        let p = plan(
            site.protocol,
            self.request.version(),
            self.request.method(),
            code,
            length,
            false,
            self.closing,
        );
        let (framing, connection) = (p.framing, p.connection);
        let wire = self.body.get_mut();
        write_head(
            wire.wbuf,
            wire.heads,
            &Head {
                date: site.clock.unix_secs(),
                version: site.protocol,
                status: code,
                reason: Some(message),
                content_type: content_type.as_ref(),
                headers: &fields,
                framing,
                connection,
            },
        );
        self.written = Some(WrittenHead { status: code, framing, sent: 0 });
        Ok(())
    }
}

impl Write for Context<'_> {
    /// Writes body bytes after [`write_response_header`](Context::write_response_header).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(head) = &mut self.written else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "write_response_header comes first"));
        };
        if self.request.method() == &http_utils::Method::Head || head.framing == BodyFraming::NoBody {
            head.sent += buf.len() as u64;
            return Ok(buf.len());
        }
        head.sent += buf.len() as u64;
        self.body.get_mut().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.body.get_mut().flush()
    }
}
