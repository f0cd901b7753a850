//! Running a handler for an admitted request: the context it gets, the dispatch with
//! `next`, restarts and status handlers, answers that come later from a responder
//! (`Waiting`), and the response handed to the writer.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use http_utils::io::{drain, BodyReader};
use http_utils::{Framing, Method, Request, Version};

use super::compose::{panic_message, write_response};
use super::serve::{body_in_buffer, Admitted, BodyMode};
use super::upgrade::vet;
use super::write::OutBody;
use super::{hook_error, After, CloseReason, Conn, Outcome, Phase, Step, Worker};
use crate::connection::engine::Engine;
use crate::handler::content::{Args, Content};
use crate::handler::context::Table;
use crate::handler::context::{Context, WrittenHead};
use crate::handler::dispatch::dispatch;
use crate::handler::hooks::{ErrorEvent, LogRecord};
use crate::handler::responder::{Pending, Verdict};
use crate::handler::response::Takeover;
use crate::handler::response::{Pass, Response};
use crate::handler::route::Captures;
use crate::handler::stream::FeedBody;
use crate::io::budget::Share;
use crate::io::head::BodyFraming;
use crate::io::transport::{Connection, PeerAddr};
use crate::io::wire::Wire;

/// At most this much of an unread request body streamed from the socket is read and
/// dropped to keep a connection.
const DRAIN_MAX: u64 = 64 * 1024;
/// At most this many internal redirects ([`Response::restart`]) per request.
const MAX_RESTARTS: u32 = 8;

/// A request whose answer comes from a [`Responder`](crate::Responder), kept with its
/// connection while it waits (the connection is parked in `Phase::Waiting`).
pub(crate) struct Waiting {
    pending: Arc<Pending>,
    request: Option<Box<Request>>,
    close: Option<CloseReason>,
    linger: bool,
    started: Option<Instant>,
    /// Its share of the stream cap (passed on to a stream it becomes).
    share: Option<Share>,
}

impl Waiting {
    /// True while no answer has come.
    pub(crate) fn unanswered(&self) -> bool {
        self.pending.is_waiting()
    }

    /// The request it holds while it waits.
    pub(super) fn request_mut(&mut self) -> Option<&mut Request> {
        self.request.as_deref_mut()
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        // Nobody will take the answer any more (it was taken, or the connection is gone).
        self.pending.abandon();
    }
}

/// Calls the log hook, if any, keeping its panics in.
pub(super) fn log(
    table: &Table,
    request: &Request,
    peer: &PeerAddr,
    status: u16,
    bytes: u64,
    started: Option<Instant>,
    close: Option<CloseReason>,
) {
    let Some(t0) = started else { return };
    let record = LogRecord { request, peer, status, bytes, duration: t0.elapsed(), close };
    if let Some(hook) = &table.log_hook {
        let _ = catch_unwind(AssertUnwindSafe(|| hook(&record)));
    }
    if table.debug {
        eprintln!("{record}");
    }
}

/// A log record held until the body the engine writes after the handler is out: logged
/// with its bytes then, or with none and [`CloseReason::WriteFailed`] if the connection
/// goes first.
pub(crate) struct LateLog {
    table: Arc<Table>,
    request: Box<Request>,
    peer: PeerAddr,
    status: u16,
    bytes: u64,
    started: Option<Instant>,
    close: Option<CloseReason>,
    sent: bool,
}

impl LateLog {
    /// The body is out.
    pub(super) fn sent(mut self) {
        self.sent = true;
    }

    /// The request it holds until the body is out.
    pub(super) fn request_mut(&mut self) -> &mut Request {
        &mut self.request
    }
}

impl Drop for LateLog {
    fn drop(&mut self) {
        let (bytes, close) =
            if self.sent { (self.bytes, self.close) } else { (0, Some(CloseReason::WriteFailed)) };
        log(&self.table, &self.request, &self.peer, self.status, bytes, self.started, close);
    }
}

/// Logs a response now, or once its body is out when the engine still has to send it.
#[allow(clippy::too_many_arguments)]
#[inline]
fn log_response(
    w: &mut Worker<'_>,
    (generation, table): (u64, Arc<Table>),
    request: Box<Request>,
    peer: &PeerAddr,
    status: u16,
    bytes: u64,
    started: Option<Instant>,
    close: Option<CloseReason>,
) {
    if table.log_hook.is_none() && !table.debug {
        w.spare = Some(request);
        w.give_back_table(generation, table);
        return;
    }
    if w.body.is_some() {
        let peer = peer.clone();
        let table = Arc::clone(&table);
        w.late_log = Some(LateLog { table, request, peer, status, bytes, started, close, sent: false });
    } else {
        log(&table, &request, peer, status, bytes, started, close);
        w.spare = Some(request);
    }
    w.give_back_table(generation, table);
}

/// The decoded path for the resource lookup when it differs from the raw one, and the
/// decoded query arguments.
fn lookup_path(req: &Request) -> (Option<String>, Args) {
    let raw = req.path();
    let path = if raw.contains('%') { Some(http_utils::decode_url(raw).0) } else { None };
    let args = match req.query() {
        Some(q) if !q.is_empty() => Args::from(http_utils::decode_form(q)),
        _ => Args::new(),
    };
    (path, args)
}

/// Sets the context's path, arguments and captures for its (possibly restarted) URL, after
/// the URL transformation (the egg's `http:url-transformation`), which rewrites the
/// request's URL itself: handlers, status handlers and the log see the new one.
fn route_request(cx: &mut Context<'_>) {
    if let Some(t) = &cx.table.url_transform {
        let url = t(cx.request.url());
        if url != cx.request.url() {
            cx.request.set_url(url);
        }
    }
    let (path, args) = lookup_path(&cx.request);
    cx.path = path;
    cx.args = args;
    cx.captures = Captures::default();
    if let Some(Content::Form(pairs)) = &cx.content {
        for (k, v) in pairs {
            cx.args.push(k.clone(), v.clone());
        }
    }
}

/// Sets the path for status handlers when the server answers without dispatching; the URL
/// transformation is user code, so it runs guarded.
fn route_for_status(cx: &mut Context<'_>) {
    if !cx.table.status_handlers.is_empty() {
        let _ = catch_unwind(AssertUnwindSafe(|| route_request(&mut *cx)));
    }
}

/// Runs user code that makes a response; a panic becomes a 500 (or, after a head was
/// written, a closed connection) and a call of the error hook.
fn guarded(cx: &mut Context<'_>, f: impl FnOnce(&mut Context<'_>) -> Response) -> Response {
    match catch_unwind(AssertUnwindSafe(|| f(&mut *cx))) {
        Ok(r) => r,
        Err(payload) => {
            let message = panic_message(&*payload);
            let event = ErrorEvent::HandlerPanic { request: &cx.request, peer: cx.peer, message: &message };
            event.log();
            if let Some(h) = cx.table.error_hook.clone() {
                let _ = catch_unwind(AssertUnwindSafe(|| h(&event)));
            }
            if let Some(p) = cx.deferred.take() {
                p.abandon();
            }
            if cx.written.is_some() {
                cx.panicked = true;
                Response::written()
            } else {
                cx.error_response(500, "Internal Server Error")
            }
        }
    }
}

/// From a request (or a first response the server made itself) to the response to send:
/// dispatch, `next` past the last route (404), restarts (bounded), then the status handler
/// of the final status, once.
fn respond(cx: &mut Context<'_>, first: Option<Response>, can_dispatch: bool) -> Response {
    let mut response = match first {
        Some(r) => r,
        None => guarded(cx, |cx| {
            route_request(cx);
            dispatch(cx)
        }),
    };
    let mut restarts = 0;
    let mut shaped = false;
    loop {
        if cx.written.is_some() || cx.deferred.is_some() {
            return response;
        }
        match response.take_pass() {
            Some(Pass::Next) => response = cx.error_response(404, "Not Found"),
            Some(Pass::Restart(url)) if can_dispatch && restarts < MAX_RESTARTS => {
                restarts += 1;
                shaped = false;
                cx.request.set_url(url);
                response = guarded(cx, |cx| {
                    route_request(cx);
                    dispatch(cx)
                });
                continue;
            }
            Some(Pass::Restart(_)) => response = cx.error_response(500, "Internal Server Error"),
            None => {}
        }
        if shaped || cx.table.status_handlers.is_empty() {
            return response;
        }
        shaped = true;
        let Some(h) = cx.table.status_handlers.get(&response.status).cloned() else { return response };
        response = guarded(cx, move |cx| h(cx, response));
    }
}

/// How the connection closes after a handler's run: as decided before it, unless the
/// handler panicked or the server began to stop meanwhile.
fn run_close(engine: &Engine, panicked: bool, close: Option<CloseReason>) -> Option<CloseReason> {
    if panicked {
        Some(CloseReason::HandlerPanicked)
    } else if close.is_none() && engine.stopping() {
        Some(CloseReason::ShuttingDown)
    } else {
        close
    }
}

/// Ends a handler's run once its response is written: the body left for the engine, the
/// worker free, the log, and how the connection goes on.
#[allow(clippy::too_many_arguments)]
fn answered(
    w: &mut Worker<'_>,
    table: (u64, Arc<Table>),
    request: Box<Request>,
    peer: &PeerAddr,
    (status, bytes, out): (u16, u64, Option<OutBody>),
    started: Option<Instant>,
    close: Option<CloseReason>,
    linger: bool,
) -> Step {
    w.body = out;
    w.mark_idle();
    log_response(w, table, request, peer, status, bytes, started, close);
    Step::Answered(after(close, linger))
}

fn after(close: Option<CloseReason>, linger: bool) -> After {
    match close {
        None => After::Keep,
        Some(reason) if linger => After::Linger(reason),
        Some(reason) => After::Close(reason),
    }
}

/// The context a handler runs in, over the connection and the worker's buffers.
#[allow(clippy::too_many_arguments)]
fn context<'a>(
    engine: &'a Engine,
    table: &'a Table,
    w: &'a mut Worker<'_>,
    io: &'a mut dyn Connection,
    peer: &'a PeerAddr,
    request: Box<Request>,
    framing: Framing,
    continue_pending: bool,
    closing: bool,
) -> Context<'a> {
    let key = w.key;
    let home = engine.poller_of(key);
    let secure = io.secure();
    let wire = Wire::new(io, &mut w.rbuf, &mut w.wbuf, &mut w.heads, &mut w.solo, (key, home), &engine.wire);
    Context {
        request,
        path: None,
        captures: Captures::default(),
        key,
        deferred: None,
        stream_share: None,
        panicked: false,
        args: Args::new(),
        content: None,
        peer,
        table,
        body: BodyReader::new(wire, framing, &engine.wire.limits),
        continue_pending,
        body_failed: false,
        written: None,
        site: &engine.site,
        home,
        closing,
        secure,
    }
}

/// Runs the handler (or, for a response the server gives itself, the status handlers) of
/// an admitted request, and hands the response to the writer.
pub(super) fn run(w: &mut Worker<'_>, conn: &mut Conn, adm: Admitted) -> Step {
    let engine = w.engine;
    // The body's share of the budget and the streaming slot go back when the handler is done.
    let Admitted {
        table: (generation, table),
        request,
        framing,
        mode,
        mut close,
        mut linger,
        first,
        expects_continue,
        started,
        body_share: _body,
        stream_share: _slot,
        ..
    } = adm;
    // A buffered body sits whole in the read buffer; otherwise it is still on the socket.
    let in_memory = mode == BodyMode::Buffered && body_in_buffer(framing, &w.rbuf);
    let rejected = first.is_some_and(|(status, _)| status == 400);
    w.mark_busy();
    let method = request.method().clone();
    let version = request.version();
    let mut cx = context(
        engine,
        &table,
        w,
        &mut *conn.io,
        &conn.peer,
        request,
        framing,
        expects_continue,
        close.is_some(),
    );
    let first = first.map(|(status, message)| {
        route_for_status(&mut cx);
        let r = cx.error_response(status, message);
        if status == 503 {
            r.with_header("Retry-After", "1")
        } else {
            r
        }
    });
    let mut response = respond(&mut cx, first, true);
    close = run_close(engine, cx.panicked, close);
    // Whatever the handler left of the body must go before the next request can be read.
    if cx.body_failed {
        close = close.or(Some(CloseReason::BodyFailed));
        linger = true;
    } else if !cx.body.is_complete() {
        if in_memory {
            let _ = drain(&mut cx.body, u64::MAX);
        } else if cx.continue_pending {
            // The client waits for 100 Continue that never came: it may or may not send.
            close = close.or(Some(CloseReason::UnreadBody));
            linger = true;
        } else if mode == BodyMode::Streamed && close.is_none() {
            if !matches!(drain(&mut cx.body, DRAIN_MAX), Ok(true)) {
                close = Some(CloseReason::UnreadBody);
                linger = true;
            }
        } else {
            close = close.or(Some(CloseReason::UnreadBody));
            linger = true;
        }
    }

    vet(&mut cx, &mut response, close);
    if response.is_upgrade() {
        linger = false;
    }
    if let Some(pending) = cx.deferred.take() {
        if cx.written.is_none() {
            // The answer comes from a responder: the worker is free now.
            let Context { request, stream_share: share, .. } = cx;
            w.mark_idle();
            w.count_request();
            let waiting = Waiting { pending, request: Some(request), close, linger, started, share };
            return wait_for(w, conn, Box::new(waiting));
        }
        pending.abandon();
    }
    let sent = send_run(engine, &mut cx, (&method, version), &mut response, &mut close);
    let Context { request, .. } = cx;
    if !rejected {
        w.count_request();
    }
    answered(w, (generation, table), request, &conn.peer, sent, started, close, linger)
}

/// Parks a request until its responder answers (or writes the answer at once if it came
/// already); also what a report for a connection whose request waits comes to (bytes the
/// peer pipelines meanwhile stay unread).
pub(super) fn wait_for(w: &mut Worker<'_>, conn: &mut Conn, waiting: Box<Waiting>) -> Step {
    match waiting.pending.take() {
        Some(verdict) => answer_waiting(w, conn, *waiting, verdict),
        None => {
            // A safety net: the monitor answers 503 at the responder's deadline; a connection
            // still waiting well after is closed.
            conn.deadline = waiting.pending.deadline + w.engine.wire.timeouts.write;
            conn.phase = Phase::Waiting(waiting);
            Step::Wait(Outcome::Park)
        }
    }
}

/// Answers a request that waited for a responder, once its answer is settled.
fn answer_waiting(w: &mut Worker<'_>, conn: &mut Conn, mut waiting: Waiting, verdict: Verdict) -> Step {
    let engine = w.engine;
    let (generation, table) = engine.registry.snapshot_with_generation();
    w.mark_busy();
    let request =
        waiting.request.take().unwrap_or_else(|| Box::new(Request::new(Method::Get, String::new())));
    let method = request.method().clone();
    let version = request.version();
    let mut cx = context(
        engine,
        &table,
        w,
        &mut *conn.io,
        &conn.peer,
        request,
        Framing::None,
        false,
        waiting.close.is_some(),
    );
    route_for_status(&mut cx);
    let first = match verdict {
        Verdict::Response(r) if r.pass().is_some() || r.written => {
            cx.error_response(500, "Internal Server Error")
        }
        Verdict::Response(r) => *r,
        Verdict::TimedOut => cx.error_response(503, "Service Unavailable"),
        Verdict::Dropped => cx.error_response(500, "Internal Server Error"),
        Verdict::Overloaded => cx.error_response(503, "Service Unavailable").with_header("Retry-After", "1"),
        Verdict::Stream(mut head, feed) => {
            head.set_takeover(Takeover::Feed(FeedBody { feed, _share: waiting.share.take() }));
            *head
        }
    };
    let mut response = respond(&mut cx, Some(first), false);
    let mut close = run_close(engine, cx.panicked, waiting.close);
    vet(&mut cx, &mut response, close);
    if let Some(p) = cx.deferred.take() {
        p.abandon();
    }
    let sent = send_run(engine, &mut cx, (&method, version), &mut response, &mut close);
    let Context { request, .. } = cx;
    answered(w, (generation, table), request, &conn.peer, sent, waiting.started, close, waiting.linger)
}

/// Ends a handler's run: [`send`] with what the context holds.
#[inline]
fn send_run(
    engine: &Engine,
    cx: &mut Context<'_>,
    method: (&Method, Version),
    response: &mut Response,
    close: &mut Option<CloseReason>,
) -> (u16, u64, Option<OutBody>) {
    let written = cx.written.take();
    send(engine, cx.body.get_mut(), &cx.request, cx.peer, method, written, response, close)
}

/// Writes a response (unless the handler wrote its own head) and settles how the connection
/// goes on. Returns the status, the body bytes sent, and a body left for the engine.
#[allow(clippy::too_many_arguments)]
fn send(
    engine: &Engine,
    wire: &mut Wire<'_>,
    request: &Request,
    peer: &PeerAddr,
    (method, version): (&Method, Version),
    written: Option<WrittenHead>,
    r: &mut Response,
    close: &mut Option<CloseReason>,
) -> (u16, u64, Option<OutBody>) {
    match written {
        Some(head) => {
            match head.framing {
                BodyFraming::Length(n) if head.sent == n => {}
                BodyFraming::NoBody => {}
                _ => *close = close.or(Some(CloseReason::ResponseUntilClose)),
            }
            (head.status, head.sent, None)
        }
        None => {
            if r.close || !r.headers.is_empty() && r.headers.connection_has("close") {
                *close = close.or(Some(CloseReason::RequestedByHandler));
            }
            #[cfg(feature = "gzip")]
            if engine.settings.compression {
                crate::handler::compress::maybe_gzip(r, method, request.headers());
            }
            let status = r.status;
            // A streamed body runs user code (a writer): keep its panics in.
            let written = catch_unwind(AssertUnwindSafe(|| {
                write_response(&engine.site, wire, method, version, r, close)
            }));
            match written {
                Ok(Ok(sent)) => (status, sent.bytes, sent.body),
                Ok(Err(_)) => {
                    *close = Some(CloseReason::WriteFailed);
                    (status, 0, None)
                }
                Err(payload) => {
                    let message = panic_message(&*payload);
                    hook_error(engine, &ErrorEvent::HandlerPanic { request, peer, message: &message });
                    *close = Some(CloseReason::HandlerPanicked);
                    (status, 0, None)
                }
            }
        }
    }
}
