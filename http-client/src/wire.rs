//! A response body as it arrives on its connection: read through its framing, and the
//! connection handed back to the pool the moment the body is complete.

use std::io::{self, Read};
use std::sync::Arc;

use http_utils::io::BodyReader;
use http_utils::{Framing, Headers, Limits};

use crate::conn::Conn;
use crate::pool::Pool;

/// Most bytes read on drop to finish an abandoned body so that its connection can be reused;
/// only bytes already received are read, so dropping never waits on the network.
const DRAIN_ON_DROP: u64 = 64 * 1024;

/// A response body as it arrives on its connection.
pub(crate) struct RawBody {
    reader: Option<BodyReader<Conn>>,
    /// Where the connection goes when the body is done; `None` when it must be closed.
    pool: Option<Arc<Pool>>,
    complete: bool,
    pub(crate) framing: Framing,
    max_body: u64,
    trailers: Option<Headers>,
    /// The connection of a `101` answer, kept for the caller.
    upgraded: Option<Conn>,
    /// A body received whole before the response was made (the one-thread interface).
    received: Option<io::Cursor<Vec<u8>>>,
}

impl RawBody {
    pub(crate) fn new(conn: Conn, framing: Framing, limits: &Limits, pool: Option<Arc<Pool>>) -> RawBody {
        let pool = if framing == Framing::UntilClose { None } else { pool };
        let mut body = RawBody {
            reader: Some(BodyReader::new(conn, framing, limits)),
            pool,
            complete: false,
            framing,
            max_body: limits.max_body,
            trailers: None,
            upgraded: None,
            received: None,
        };
        body.check_complete();
        body
    }

    /// The (empty) body of a `101` answer, keeping its connection for
    /// [`take_upgraded`](RawBody::take_upgraded).
    pub(crate) fn upgraded(conn: Conn, limits: &Limits) -> RawBody {
        RawBody {
            reader: None,
            pool: None,
            complete: true,
            framing: Framing::None,
            max_body: limits.max_body,
            trailers: None,
            upgraded: Some(conn),
            received: None,
        }
    }

    /// A body that has been received whole (`bytes`, already taken out of its framing, and
    /// the trailers of a chunked one); its connection is elsewhere.
    pub(crate) fn received(
        bytes: Vec<u8>,
        framing: Framing,
        trailers: Option<Headers>,
        limits: &Limits,
    ) -> RawBody {
        RawBody {
            reader: None,
            pool: None,
            complete: true,
            framing,
            max_body: limits.max_body,
            trailers,
            upgraded: None,
            received: Some(io::Cursor::new(bytes)),
        }
    }

    /// The connection of a `101` answer.
    pub(crate) fn take_upgraded(&mut self) -> Option<Conn> {
        self.upgraded.take()
    }

    /// The client's cap on a body read whole.
    pub(crate) fn max_body(&self) -> u64 {
        self.max_body
    }

    /// True once the whole body has been received.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// The trailer fields of a chunked body, once it is complete and if it had any.
    pub(crate) fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_ref()
    }

    fn check_complete(&mut self) {
        if self.reader.as_ref().is_some_and(BodyReader::is_complete) {
            self.complete = true;
            self.release();
        }
    }

    /// Hands the connection back to the pool (when allowed) or closes it.
    fn release(&mut self) {
        let Some(mut reader) = self.reader.take() else { return };
        self.trailers = reader.take_trailers();
        let conn = reader.into_inner();
        if let Some(pool) = self.pool.take() {
            if conn.buffered().is_empty() {
                pool.put(conn);
            }
        }
    }
}

impl Read for RawBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(bytes) = self.received.as_mut() {
            return bytes.read(buf);
        }
        let Some(reader) = self.reader.as_mut() else { return Ok(0) };
        match reader.read(buf) {
            Ok(n) => {
                self.check_complete();
                Ok(n)
            }
            Err(e) => {
                // The connection's framing is lost: close it.
                self.reader = None;
                self.pool = None;
                Err(e)
            }
        }
    }
}

impl Drop for RawBody {
    fn drop(&mut self) {
        // Only a connection that could be reused is worth finishing.
        let (Some(mut reader), Some(pool)) = (self.reader.take(), self.pool.take()) else { return };
        // Finish the body with the bytes that have already arrived, without waiting for more.
        if reader.get_mut().set_polling(true).is_err() {
            return;
        }
        let mut sink = [0u8; 4096];
        let mut drained = 0u64;
        let finished = loop {
            if reader.is_complete() {
                break true;
            }
            if drained >= DRAIN_ON_DROP {
                break false;
            }
            match reader.read(&mut sink) {
                Ok(0) => break reader.is_complete(),
                Ok(n) => drained += n as u64,
                // Nothing more has arrived yet (or the body is broken): close the connection.
                Err(_) => break false,
            }
        };
        if finished && reader.get_mut().set_polling(false).is_ok() {
            let conn = reader.into_inner();
            if conn.buffered().is_empty() {
                pool.put(conn);
            }
        }
    }
}
